/**
 * The scale-out topology of docs/operations.md "Several web servers", for tests and the
 * load benchmark: one vault (on the stack's PostgreSQL), N proxies, N web servers
 * (`server/main.ts`, what `deno task web` runs after its build step) sharing one Redis
 * (`REDIS_URL`) and one `DATA_DIR` (the web-tier key and PUB(c,s)), web server i calling
 * proxy i, and optionally HAProxy in front of the web servers: round robin, no affinity,
 * health checks on `/healthz`, a request that cannot connect redispatched to another.
 *
 * @module
 */
import { type Child, localUrl, processSpec, provisionConfidentialityKey } from "../platform/mod.ts";
import { freePort, programPath, type TestRedis, waitForPort } from "./redis.ts";
import { spawnProcess, type Stack } from "./stack.ts";

/** One web server of the tier. */
export interface TierWeb {
  name: string;
  port: number;
  url: string;
  child: Child;
}

/** The web tier started by {@link startWebTier}. */
export interface WebTier {
  proxies: Child[];
  proxyUrls: string[];
  webs: TierWeb[];
  /** SIGKILLs web server `i`. */
  killWeb(i: number): Promise<void>;
  /** Starts web server `i` again on its port. */
  startWeb(i: number): Promise<void>;
  /** `/api/rpc` requests each web server answered so far (from its access log). */
  rpcCounts(): number[];
  /** The web server (index) of every `/api/rpc` request so far, in time order. */
  rpcOrder(): number[];
  stop(): Promise<void>;
}

/** Starts `count` proxies and `count` web servers on `stack`'s vault, sessions in `redis`. */
export async function startWebTier(
  stack: Stack,
  redis: TestRedis,
  options: { count?: number; env?: Record<string, string>; echo?: boolean } = {},
): Promise<WebTier> {
  const count = options.count ?? 2;
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    DATA_DIR: stack.dataDir,
    DIST_DIR: `${stack.dataDir}/dist`,
    LOG_LEVEL: "info",
    HOST_BANK_URL: "none",
    REDIS_URL: redis.url,
    ...(stack.databaseUrl ? { DATABASE_URL: stack.databaseUrl } : {}),
    ...options.env,
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  const proxies: Child[] = [];
  const webs: TierWeb[] = [];
  const stopAll = () =>
    Promise.all([...webs.map((w) => w.child.stop()), ...proxies.map((p) => p.stop())]);
  try {
    for (let i = 0; i < count; i++) {
      const p = await spawnProcess("proxy", 0, { ...env, VAULT_URL: stack.vaultUrl }, {
        childName: `proxy-${i + 1}`,
        echo: options.echo,
      });
      proxies.push(p.child);
    }
    const proxyUrls: string[] = [];
    for (const p of proxies) proxyUrls.push(localUrl(await p.listening));
    // The operator's step, once for the tier: every web server shares PUB(c,s).
    if (processSpec("web").certifyKeyFirst) {
      await provisionConfidentialityKey(stack.dataDir, proxyUrls[0]);
    }
    const spawnWeb = async (i: number, port: number) => {
      const w = await spawnProcess("web", port, { ...env, PROXY_URL: proxyUrls[i] }, {
        childName: `web-${i + 1}`,
        echo: options.echo,
      });
      return { name: `web-${i + 1}`, port: w.port, url: localUrl(w.port), child: w.child };
    };
    // One after the other: the first links the applet into DIST_DIR, the others find it.
    for (let i = 0; i < count; i++) webs.push(await spawnWeb(i, 0));
    // `/api/rpc` access-log lines: of the web servers killed before, and of the live ones.
    const rpcOf = (w: TierWeb, i: number) =>
      w.child.lines.map(_json)
        .filter((j) => j?.event === "request" && j.route === "/api/rpc")
        .map((j) => ({ ts: String(j!.ts), web: i }));
    const archived: { ts: string; web: number }[] = [];
    const order = () =>
      [...archived, ...webs.flatMap(rpcOf)].toSorted((a, b) => a.ts.localeCompare(b.ts));
    return {
      proxies,
      proxyUrls,
      webs,
      async killWeb(i) {
        await webs[i].child.kill();
      },
      async startWeb(i) {
        archived.push(...rpcOf(webs[i], i));
        webs[i] = await spawnWeb(i, webs[i].port);
      },
      rpcCounts: () => webs.map((_, i) => order().filter((h) => h.web === i).length),
      rpcOrder: () => order().map((h) => h.web),
      stop: async () => {
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function _json(line: string): Record<string, unknown> | null {
  if (!line.startsWith("{")) return null;
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/** HAProxy in front of some web servers. */
export interface LoadBalancer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * HAProxy (Debian `haproxy`) on a free port: `balance roundrobin`, no cookie, no stick
 * table (no affinity), `/healthz` checks every 500 ms, and a request that cannot connect
 * to its server retried on another (`option redispatch`, `retry-on conn-failure`).
 */
export async function startHaproxy(
  backends: { name: string; port: number }[],
): Promise<LoadBalancer> {
  const bin = await programPath("haproxy");
  if (!bin) throw new Error("haproxy is not installed");
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "roamsign-haproxy-" });
  const servers = backends.map((b) =>
    `  server ${b.name} 127.0.0.1:${b.port} check inter 500 fall 2 rise 2`
  );
  const config = [
    "global",
    "  maxconn 1024",
    "defaults",
    "  mode http",
    "  timeout connect 1s",
    "  timeout client 60s",
    "  timeout server 60s",
    "  retries 3",
    "  option redispatch 1",
    "  retry-on conn-failure empty-response",
    "frontend public",
    `  bind 127.0.0.1:${port}`,
    "  default_backend web",
    "backend web",
    "  balance roundrobin",
    "  option httpchk GET /healthz",
    ...servers,
    "",
  ].join("\n");
  await Deno.writeTextFile(`${dir}/haproxy.cfg`, config);
  const proc = new Deno.Command(bin, {
    args: ["-db", "-f", `${dir}/haproxy.cfg`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const errors = proc.stderr.pipeTo(new WritableStream()).catch(() => {});
  try {
    await waitForPort(port);
  } catch (err) {
    proc.kill("SIGKILL");
    await proc.status;
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      try {
        proc.kill("SIGTERM");
      } catch {
        // gone
      }
      await proc.status;
      await errors;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
