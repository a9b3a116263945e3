/**
 * The proxy process: `deno run -A proxy/main.ts`. Reads its configuration once
 * (`config.ts`), then `web-proxy.key`, `admin-proxy.key` and `proxy-vault.key` (or
 * their env overrides), and serves on
 * `PROXY_HOST:PROXY_PORT` (default 127.0.0.1:8001), forwarding to `VAULT_URL` (default
 * http://127.0.0.1:8002). Logs `{"event":"listening","port":…}` once ready.
 *
 * @module
 */
import { importHmacKey } from "../platform/mod.ts";
import { configureLog, log, logLifecycle } from "../platform/mod.ts";
import { readSecret, type SecretName } from "../platform/mod.ts";
import { createProxyApp } from "./server.ts";
import { enableProcessMetrics } from "../platform/mod.ts";
import { proxyConfigFromEnv } from "./config.ts";

const config = proxyConfigFromEnv();
configureLog("proxy", config.logLevel);
enableProcessMetrics("proxy");

async function _key(name: SecretName, dir: string) {
  const raw = await readSecret(name, dir);
  try {
    return await importHmacKey(raw);
  } finally {
    raw.fill(0);
  }
}

async function main(): Promise<void> {
  const { dataDir: dir, port, host: hostname, vaultUrl } = config;
  const app = createProxyApp({
    vaultUrl,
    callerKeys: {
      web: await _key("web-proxy.key", dir),
      admin: await _key("admin-proxy.key", dir),
    },
    vaultKey: await _key("proxy-vault.key", dir),
  });
  const server = Deno.serve({
    hostname,
    port,
    onListen: ({ port, hostname }) =>
      logLifecycle("listening", { port, hostname, vault: vaultUrl }),
  }, app.fetch);
  const stop = async (signal: string) => {
    log("info", "stopping", { signal });
    await server.shutdown();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
}

if (import.meta.main) {
  main().catch((err) => {
    log("error", "start_failed", { error: err instanceof Error ? err.message : String(err) });
    Deno.exit(1);
  });
}
