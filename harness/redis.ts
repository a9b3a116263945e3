/**
 * A throw-away Redis for tests and benchmarks: `redis-server` on a free loopback port with
 * no persistence (`--save '' --appendonly no`), so that a restart comes back empty, as a
 * Redis without persistence does in production. Never the machine's shared Redis.
 *
 *   const redis = await startRedis();   // null (with the reason) when it cannot run
 *   … REDIS_URL = redis.url …
 *   await redis.restart();               // SIGKILL, then the same port again, empty
 *   await redis.stop();
 *
 * @module
 */

/** A running redis-server of ours. */
export interface TestRedis {
  port: number;
  url: string;
  pid(): number;
  /** SIGKILL; resolves when it is gone (the port is free). */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty). */
  start(): Promise<void>;
  /** {@link kill} then {@link start}. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Why Redis cannot run here, or null when it can (`redis-server` on the PATH). */
export async function redisUnavailable(): Promise<string | null> {
  return await _onPath("redis-server")
    ? null
    : "redis-server is not installed (apt-get install redis-server; .ci/run does)";
}

/** Why HAProxy cannot run here, or null when it can. */
export async function haproxyUnavailable(): Promise<string | null> {
  return await _onPath("haproxy")
    ? null
    : "haproxy is not installed (apt-get install haproxy; .ci/run does)";
}

/** The path of a program (PATH, then the sbin directories a Debian package may use). */
export async function programPath(name: string): Promise<string | null> {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin"];
  for (const dir of dirs.filter(Boolean)) {
    const path = `${dir}/${name}`;
    const info = await Deno.stat(path).catch(() => null);
    if (info?.isFile) return path;
  }
  return null;
}

async function _onPath(name: string): Promise<boolean> {
  return (await programPath(name)) !== null;
}

/** A port that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Resolves once something accepts TCP connections on the port; fails after `ms`. */
export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
}

/** Starts a redis-server of ours; see the module doc. */
export async function startRedis(): Promise<TestRedis> {
  const bin = await programPath("redis-server");
  if (!bin) throw new Error(await redisUnavailable() ?? "redis-server missing");
  const port = freePort();
  let proc: Deno.ChildProcess | null = null;
  const spawn = async () => {
    proc = new Deno.Command(bin, {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForPort(port);
  };
  const kill = async () => {
    const p = proc;
    if (!p) return;
    proc = null;
    try {
      p.kill("SIGKILL");
    } catch {
      // gone already
    }
    await p.status;
  };
  await spawn();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => proc?.pid ?? 0,
    kill,
    start: spawn,
    async restart() {
      await kill();
      await spawn();
    },
    stop: kill,
  };
}
