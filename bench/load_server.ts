/**
 * The server side of the load benchmark (bench/load.ts): `deno task start` as a process on
 * free ports with the PIDs of its children and the full GCs V8 reports, and the Deno
 * workers that run the simulated users.
 *
 * @module
 */
import { localUrl, type ProcessName, TOPOLOGY } from "../platform/mod.ts";
import { ksfEnv, LIGHT_KSF } from "../harness/mod.ts";
import { childrenOf } from "./proc.ts";
import type { WorkerReply, WorkerRequest } from "./load_worker.ts";

const _ROOT = new URL("../", import.meta.url).pathname;

function _freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** User i's loopback address: 127.10.x.y (y in 1..250). */
export function loadAddress(i: number): string {
  return `127.10.${Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** A full (mark-compact) GC of a started process, from V8's `--trace-gc` line. */
export interface FullGc {
  pid: number;
  /** Epoch ms when the line arrived here. */
  at: number;
  /** V8 heap in use after the GC (the live objects), MB. */
  liveMb: number;
  committedMb: number;
}

const _FULL_GC =
  /^\[(\d+):0x[0-9a-f]+\]\s+\d+ ms: (?:Incremental )?Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/;

async function _pump(
  stream: ReadableStream<Uint8Array>,
  keep: string[],
  gcs: FullGc[],
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, i);
      const gc = line.startsWith("[") ? _FULL_GC.exec(line) : null;
      if (gc) {
        gcs.push({
          pid: Number(gc[1]),
          at: performance.timeOrigin + performance.now(),
          liveMb: Number(gc[2]),
          committedMb: Number(gc[3]),
        });
      } else keep.push(line);
      if (keep.length > 400) keep.splice(0, keep.length - 200);
      buffer = buffer.slice(i + 1);
    }
  }
}

/** `deno task start` (after its build step) as a process, with the PIDs of its children. */
export interface Started {
  supervisor: Deno.ChildProcess;
  webUrl: string;
  proxyUrl: string;
  dataDir: string;
  lines: string[];
  gcs: FullGc[];
  pids: Record<string, number>;
  stop(): Promise<void>;
}

export async function startServer(
  databaseUrl: string,
  logLevel: string | undefined,
  v8Flags: string | undefined,
  extraEnv: Record<string, string> = {},
): Promise<Started> {
  // `deno task start` = `deno run -A server/build.ts --code-only && deno run -A server/start.ts`.
  const build = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "server/build.ts", "--code-only"],
    cwd: _ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!build.success) {
    throw new Error(
      `server/build.ts failed: ${new TextDecoder().decode(build.stderr).slice(-2000)}`,
    );
  }
  const dataDir = await Deno.makeTempDir({ prefix: "roamsign-load-" });
  // Every process of the topology (platform/topology.ts) on a free port.
  const ports = Object.fromEntries(TOPOLOGY.map((p) => [p.name, _freePort()])) as Record<
    ProcessName,
    number
  >;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    // this run's applet is linked with this run's anchors
    DIST_DIR: `${dataDir}/dist`,
    DATABASE_URL: databaseUrl,
    // The vault sets the load users' light stretching (bench/load_worker.ts, test-only).
    ...ksfEnv(LIGHT_KSF),
    ...Object.fromEntries(TOPOLOGY.map((p) => [p.portEnv, String(ports[p.name])])),
    ...extraEnv,
  };
  if (logLevel) env.LOG_LEVEL = logLevel;
  // --trace-gc: one line per GC on the child's stdout; the live heap after each full GC is
  // the leak indicator (RSS also moves with how much heap V8 decides to keep committed).
  // Deno splits DENO_V8_FLAGS at commas (a space made one unknown flag of both)
  env.DENO_V8_FLAGS = ["--trace-gc", ...(v8Flags ? v8Flags.split(/[\s,]+/) : [])].join(",");
  const supervisor = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "server/start.ts"],
    cwd: _ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const gcs: FullGc[] = [];
  const pumps = Promise.all([
    _pump(supervisor.stdout, lines, gcs),
    _pump(supervisor.stderr, lines, gcs),
  ]);
  const webUrl = localUrl(ports.web);
  const stop = async () => {
    const kids = childrenOf(supervisor.pid);
    try {
      supervisor.kill("SIGTERM");
    } catch {
      // already gone
    }
    const done = await Promise.race([
      supervisor.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 15_000)),
    ]);
    if (!done) {
      for (const k of kids) {
        try {
          Deno.kill(k.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      try {
        supervisor.kill("SIGKILL");
      } catch {
        // gone
      }
      await supervisor.status;
    }
    await pumps.catch(() => {});
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  const started = performance.now();
  const exited = supervisor.status.then((s) => s);
  let ready = false;
  while (!ready) {
    if (performance.now() - started > 180_000) {
      await stop();
      throw new Error(
        `deno task start did not get ready in 180 s:\n${lines.slice(-20).join("\n")}`,
      );
    }
    const status = await Promise.race([
      exited,
      new Promise<null>((r) => setTimeout(() => r(null), 250)),
    ]);
    if (status) {
      await pumps.catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      throw new Error(
        `deno task start exited with ${status.code}:\n${lines.slice(-20).join("\n")}`,
      );
    }
    ready = lines.some((l) => l.includes("roamsign is running at"));
  }
  const pids: Record<string, number> = { supervisor: supervisor.pid };
  for (const k of childrenOf(supervisor.pid)) {
    const hit = TOPOLOGY.find((p) => k.cmdline.includes(p.entry));
    if (hit) pids[hit.name] = k.pid;
  }
  return {
    supervisor,
    webUrl,
    proxyUrl: localUrl(ports.proxy),
    dataDir,
    lines,
    gcs,
    pids,
    stop,
  };
}

/** A worker and a typed request/answer over it (one request at a time). */
export function startWorker() {
  const w = new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });
  const ask = <T extends WorkerReply["type"]>(
    req: WorkerRequest & { type: T },
  ): Promise<Extract<WorkerReply, { type: T }>> =>
    new Promise((resolve, reject) => {
      w.onmessage = (e: MessageEvent<WorkerReply>) => {
        if (e.data.type === "error") reject(new Error(`load worker: ${e.data.message}`));
        else resolve(e.data as Extract<WorkerReply, { type: T }>);
      };
      w.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`load worker: ${e.message}`));
      };
      w.postMessage(req);
    });
  return { ask, terminate: () => w.terminate() };
}

export function split<T>(items: T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  items.forEach((x, i) => out[i % parts].push(x));
  return out;
}

export function heapFigures(gcs: FullGc[], pid: number, from: number) {
  const mine = gcs.filter((g) => g.pid === pid);
  const before = mine.filter((g) => g.at < from).at(-1);
  const during = mine.filter((g) => g.at >= from);
  const list = before ? [before, ...during] : during;
  return {
    liveHeapAfterGcMb: list.map((g) => g.liveMb),
    committedHeapMb: list.at(-1)?.committedMb ?? null,
  };
}
