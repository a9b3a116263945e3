/**
 * One roamsign service as a child process (`deno run -A <script>`), used by the
 * supervisor (`server/start.ts`) and by the test fixture (`harness/stack.ts`).
 * Its stdout/stderr lines are kept (last 2 000) and optionally echoed; the port it
 * listens on is read from its `{"event":"listening","port":…}` log line, so a child
 * may be started on port 0. Or (`inherit`, the supervisor) the child writes straight to
 * our own stdout/stderr and nothing passes through this process.
 *
 * @module
 */

/** How to start a service. */
export interface ChildSpec {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Echo the child's lines to our stdout/stderr (tests may, for debugging). */
  echo?: boolean;
  /**
   * The child writes to our stdout/stderr itself (inherited descriptors): its log lines
   * cost this process nothing (the supervisor relayed every line of every child before,
   * ≈ 1 ms of its CPU per load-suite journey, docs/benchmarks.md). Nothing is read here,
   * so `lines` stays empty and `listening` / `waitForLine` reject: wait for `/healthz`.
   */
  inherit?: boolean;
  /** Working directory (default: the current one). */
  cwd?: string;
  /** Extra flags for `deno run` before the script (tests: `--inspect=127.0.0.1:0`). */
  denoArgs?: string[];
}

/** A running child. */
export interface Child {
  name: string;
  pid: number;
  /** Resolves with the listening port, or rejects if the child exits first. */
  listening: Promise<number>;
  /** Resolves with the exit status. */
  exited: Promise<Deno.CommandStatus>;
  /** The child's recent output lines (stdout and stderr). */
  lines: string[];
  /**
   * Resolves with the first JSON log line (already seen or still to come) for which
   * `match` is true; rejects when the child exits or `timeoutMs` passes first.
   */
  waitForLine(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (crash simulation). */
  kill(): Promise<void>;
}

const _MAX_LINES = 2_000;

/** Writes all of `bytes` to a file (stdout or stderr) at once. */
function _writeAll(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

async function _pump(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
  echo?: { writeSync(p: Uint8Array): number },
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    // Echo what arrived in one write (not one console call per line: the supervisor
    // relays every child's log lines, and per-line writes were a measurable share of
    // its CPU under load, bench/load.ts).
    if (echo) _writeAll(echo, chunk);
    buffer += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  }
  if (buffer) onLine(buffer);
}

/** What a spawned process said: its kept lines, line listeners, its port and its exit. */
interface ChildOutput {
  lines: string[];
  listeners: Set<(line: string) => void>;
  listening: Promise<number>;
  exited: Promise<Deno.CommandStatus>;
  /** Inherited descriptors: no line is ever seen here. */
  unread?: boolean;
}

/** Reads the process's stdout and stderr line by line (echoing them if asked). */
function _watchOutput(process: Deno.ChildProcess, spec: ChildSpec): ChildOutput {
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let resolvePort!: (port: number) => void;
  let rejectPort!: (err: Error) => void;
  const listening = new Promise<number>((resolve, reject) => {
    resolvePort = resolve;
    rejectPort = reject;
  });
  listening.catch(() => {}); // callers that never await it must not see an unhandled rejection
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > _MAX_LINES) lines.splice(0, lines.length - _MAX_LINES);
    for (const listener of listeners) listener(line);
    if (line.includes('"event":"listening"')) {
      try {
        const port = JSON.parse(line).port;
        if (typeof port === "number") resolvePort(port);
      } catch {
        // not our JSON line
      }
    }
  };
  const pumps = Promise.all([
    _pump(process.stdout, onLine, spec.echo ? Deno.stdout : undefined),
    _pump(process.stderr, onLine, spec.echo ? Deno.stderr : undefined),
  ]);
  const exited = process.status.then(async (status) => {
    await pumps.catch(() => {});
    rejectPort(
      new Error(
        `${spec.name} exited with ${status.code} before listening:\n${lines.slice(-20).join("\n")}`,
      ),
    );
    return status;
  });
  return { lines, listeners, listening, exited };
}

/** An inheriting child: its exit only (its output never passes through here). */
function _noOutput(process: Deno.ChildProcess, spec: ChildSpec): ChildOutput {
  const unread = () =>
    Promise.reject(new Error(`${spec.name} writes to an inherited stdout: its lines are not read`));
  const listening = unread();
  listening.catch(() => {}); // callers that never await it must not see an unhandled rejection
  return { lines: [], listeners: new Set(), listening, exited: process.status, unread: true };
}

/** {@link Child.waitForLine} over a child's output. */
function _waitForLine(
  name: string,
  out: ChildOutput,
  match: (line: Record<string, unknown>) => boolean,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  if (out.unread) {
    return Promise.reject(new Error(`${name} writes to an inherited stdout: no line to wait for`));
  }
  const parse = (line: string): Record<string, unknown> | undefined => {
    try {
      const j = JSON.parse(line);
      return j && typeof j === "object" && match(j) ? j : undefined;
    } catch {
      return undefined;
    }
  };
  for (const line of out.lines) {
    const hit = parse(line);
    if (hit) return Promise.resolve(hit);
  }
  return new Promise((resolve, reject) => {
    const done = () => {
      out.listeners.delete(listener);
      clearTimeout(timer);
    };
    const listener = (line: string) => {
      const hit = parse(line);
      if (hit) {
        done();
        resolve(hit);
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${name}: no matching log line in ${timeoutMs} ms`));
    }, timeoutMs);
    out.listeners.add(listener);
    out.exited.then(() => {
      if (!out.listeners.has(listener)) return;
      done();
      reject(
        new Error(
          `${name} exited before the expected log line:\n${out.lines.slice(-20).join("\n")}`,
        ),
      );
    });
  });
}

/** Sends a signal unless the process is already gone. */
function _signal(process: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    process.kill(signal);
  } catch {
    // already gone
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
async function _stop(
  process: Deno.ChildProcess,
  exited: Promise<unknown>,
  graceMs: number,
): Promise<void> {
  _signal(process, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      _signal(process, "SIGKILL");
      resolve();
    }, graceMs);
  });
  await Promise.race([exited, killed]);
  clearTimeout(timer);
  await exited;
}

/** Starts a child. */
export function spawnChild(spec: ChildSpec): Child {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...(spec.denoArgs ?? []), spec.script],
    env: spec.env,
    cwd: spec.cwd,
    stdin: "null",
    stdout: spec.inherit ? "inherit" : "piped",
    stderr: spec.inherit ? "inherit" : "piped",
  });
  const process = command.spawn();
  const out = spec.inherit ? _noOutput(process, spec) : _watchOutput(process, spec);
  let gone = false;
  out.exited.then(() => (gone = true));
  return {
    name: spec.name,
    pid: process.pid,
    listening: out.listening,
    exited: out.exited,
    lines: out.lines,
    waitForLine: (match, timeoutMs = 120_000) => _waitForLine(spec.name, out, match, timeoutMs),
    async stop(graceMs = 5_000) {
      if (gone) return;
      await _stop(process, out.exited, graceMs);
    },
    async kill() {
      if (gone) return;
      _signal(process, "SIGKILL");
      await out.exited;
    },
  };
}

/** Polls `url` until it answers 2xx (or `timeoutMs` passes, then throws). */
export async function waitHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms (${last})`);
}
