/**
 * The web server's configuration, from the environment, read once at start by
 * `main.ts` and passed down (every variable is in the README). The CLIs next to it
 * read their own flags: `start.ts` (the supervisor), `build.ts` (its `DIST_DIR` and
 * `DATA_DIR` defaults are its own, for `deno task build`) and `verify_applet.ts`.
 * `LOG_LEVEL` and `WEB_PROXY_KEY` are read by platform/ (`configureLog`, `readSecret`),
 * as in every process.
 *
 * @module
 */
import { dataDir } from "../platform/mod.ts";
import { DEFAULT_OUT_DIR } from "./build.ts";
import { parseTrustedProxies } from "./client_address.ts";

/** The operator listener (`/metrics`, server/operator.ts). */
export interface MetricsListenerConfig {
  hostname: string;
  /** `0`: a free port. */
  port: number;
}

/** Everything the web server process reads at start. */
export interface WebConfig {
  /** `PORT` (8000; 0 picks a free port). */
  port: number;
  /** `HOST` (127.0.0.1; `0.0.0.0` behind a TLS terminator). */
  hostname: string;
  /** `DATA_DIR` (./data): secrets, the confidentiality key, the trust anchors. */
  dataDir: string;
  /** `DIST_DIR` (`<repo>/dist`): the built applet. */
  distDir: string;
  /** `PROXY_URL` (http://127.0.0.1:8001). */
  proxyUrl: string;
  /** `HOST_BANK_URL` (http://127.0.0.1:8003); `none`: no host application (undefined). */
  hostBankUrl?: string;
  /** `SKIP_BUILD=1`: serve what `distDir` holds without checking the sources. */
  skipBuild: boolean;
  /** `METRICS_PORT` / `METRICS_HOST` (127.0.0.1); unset port: no operator listener. */
  metrics?: MetricsListenerConfig;
  /** `WEB_SESSION_LIMIT`: new sessions per client address per minute (600; 0: off). */
  sessionLimit: number;
  /** `TRUSTED_PROXIES`: TLS terminators whose `X-Forwarded-For` names the client. */
  trustedProxies: ReadonlySet<string>;
  /** `HSTS=1`: the `Strict-Transport-Security` value; else false (none). */
  hsts: string | false;
  /**
   * `REDIS_URL`: sessions in Redis, shared by several web servers (server/redis_sessions.ts);
   * unset: in this process's memory (the default).
   */
  redisUrl?: string;
}

/** The HSTS header when `HSTS=1` (behind a TLS terminator, README), else none. */
export function hstsFromEnv(): string | false {
  let on: string | undefined;
  try {
    on = Deno.env.get("HSTS");
  } catch {
    on = undefined; // no env permission: off
  }
  return on === "1" ? "max-age=31536000; includeSubDomains" : false;
}

function _metricsFromEnv(): MetricsListenerConfig | undefined {
  const raw = Deno.env.get("METRICS_PORT");
  if (raw === undefined || raw === "") return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error("config: METRICS_PORT must be an integer in 0..65535");
  }
  return { hostname: Deno.env.get("METRICS_HOST") || "127.0.0.1", port };
}

function _redisUrlFromEnv(): string | undefined {
  const raw = Deno.env.get("REDIS_URL");
  if (raw === undefined || raw === "") return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error("config: REDIS_URL must be a URL (redis://host:port or rediss://…)");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new Error("config: REDIS_URL must start with redis:// or rediss://");
  }
  return raw;
}

/** Reads the configuration; throws with the variable's name when one is malformed. */
export function webConfigFromEnv(): WebConfig {
  const env = (k: string, d: string) => Deno.env.get(k) || d;
  const hostBankUrl = env("HOST_BANK_URL", "http://127.0.0.1:8003");
  return {
    port: Number(env("PORT", "8000")),
    hostname: env("HOST", "127.0.0.1"),
    dataDir: dataDir(),
    distDir: env("DIST_DIR", DEFAULT_OUT_DIR),
    proxyUrl: env("PROXY_URL", "http://127.0.0.1:8001"),
    hostBankUrl: hostBankUrl === "none" ? undefined : hostBankUrl,
    skipBuild: Deno.env.get("SKIP_BUILD") === "1",
    metrics: _metricsFromEnv(),
    sessionLimit: Number(env("WEB_SESSION_LIMIT", "600")),
    // A malformed TRUSTED_PROXIES fails the start, not the first request.
    trustedProxies: parseTrustedProxies(Deno.env.get("TRUSTED_PROXIES")),
    hsts: hstsFromEnv(),
    redisUrl: _redisUrlFromEnv(),
  };
}
