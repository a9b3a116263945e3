/**
 * The web server process (the supervisor's child entry, `server/start.ts`):
 * builds the applet if its sources changed, loads (or creates) the
 * confidentiality key, and serves the app.
 *
 * Environment (README): read once, by `server/config.ts` ({@link webConfigFromEnv}),
 * and passed down from here; `WEB_PROXY_KEY` (overrides `DATA_DIR/secrets/web-proxy.key`)
 * and `LOG_LEVEL` are read by platform/, as in every process.
 *
 * @module
 */
import { configureLog, log, logLifecycle } from "../platform/mod.ts";
import { createProxyClient } from "../platform/mod.ts";
import { readSecret } from "../platform/mod.ts";
import { createApp } from "./app.ts";
import { vaultCaller } from "./vault_caller.ts";
import { buildApplet } from "./build.ts";
import { type WebConfig, webConfigFromEnv } from "./config.ts";
import { loadConfidentialityKey } from "../platform/mod.ts";
import { MemorySessionStore, type SessionStore } from "./sessions.ts";
import { RedisSessionStore } from "./redis_sessions.ts";
import { SessionSealer } from "./session_keys.ts";
import { createHostRelay } from "./host_relay.ts";
import { enableProcessMetrics } from "../platform/mod.ts";
import { registerWebGauges, startOperatorListener, webReadiness } from "./operator.ts";
import { AddressLimit } from "./address_limit.ts";

/**
 * The session store: Redis with `REDIS_URL` (its secrets sealed under `web-session.key`,
 * shared by every web server), else this process's memory.
 */
export async function openSessionStore(config: WebConfig): Promise<SessionStore> {
  if (!config.redisUrl) {
    const sessions = new MemorySessionStore();
    const sweeper = setInterval(() => sessions.sweep(), 60_000);
    Deno.unrefTimer(sweeper);
    return sessions;
  }
  const secret = await readSecret("web-session.key", config.dataDir);
  const sealer = await SessionSealer.fromSecret(secret);
  secret.fill(0);
  const { host, pathname } = new URL(config.redisUrl); // never the password
  log("info", "session_store", { kind: "redis", redis: `${host}${pathname}` });
  return RedisSessionStore.open({ url: config.redisUrl, sealer });
}

/** Starts the server; resolves once it listens. */
export async function main(
  config: WebConfig = webConfigFromEnv(),
): Promise<Deno.HttpServer<Deno.NetAddr>> {
  configureLog("web");
  enableProcessMetrics("web");
  const { dataDir, distDir, proxyUrl } = config;

  if (!config.skipBuild) {
    const started = performance.now();
    const built = await buildApplet({ outDir: distDir, dataDir });
    log("info", built.rebuilt ? "applet_built" : "applet_current", {
      ms: Math.round(performance.now() - started),
      page: built.manifest.entries.page,
      wasm: built.manifest.entries.wasm,
      wasmRelaxed: built.manifest.entries.wasmRelaxed,
    });
  }

  const secret = await readSecret("web-proxy.key", dataDir);
  const vault = vaultCaller(createProxyClient({ url: proxyUrl, keyId: "web", secret }));
  secret.fill(0);
  const confidentiality = await loadConfidentialityKey(dataDir, () => {
    throw new Error(
      `main: no certificate for the confidentiality key in ${dataDir}/web/; the operator ` +
        "issues it (deno task start does; otherwise deno task admin web-certificate)",
    );
  });
  const sessions = await openSessionStore(config);
  const host = config.hostBankUrl ? createHostRelay({ url: config.hostBankUrl }) : undefined;
  const readiness = webReadiness(distDir, proxyUrl);
  const sessionLimit = new AddressLimit({ limit: config.sessionLimit, windowMs: 60_000 });
  const app = createApp({
    vault,
    sessions,
    confidentiality,
    distDir,
    host,
    readiness,
    sessionLimit,
    trustedProxies: config.trustedProxies,
    hsts: config.hsts,
  });
  registerWebGauges(sessions);
  startOperatorListener(readiness, config.metrics);
  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: (addr) => {
      logLifecycle("listening", { url: `http://${addr.hostname}:${addr.port}`, port: addr.port });
    },
  }, app.fetch);
  return server;
}

if (import.meta.main) {
  const server = await main();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      server.shutdown().finally(() => Deno.exit(0));
    });
  }
}
