/**
 * The proxy process: `deno run -A proxy/main.ts`. Reads `web-proxy.key`,
 * `admin-proxy.key` and `proxy-vault.key` (or their env overrides), and serves on
 * `PROXY_HOST:PROXY_PORT` (default 127.0.0.1:8001), forwarding to `VAULT_URL` (default
 * http://127.0.0.1:8002). Logs `{"event":"listening","port":…}` once ready.
 *
 * @module
 */
import { importHmacKey } from "../platform/mod.ts";
import { configureLog, log, logLifecycle } from "../platform/mod.ts";
import { dataDir, readSecret, type SecretName } from "../platform/mod.ts";
import { createProxyApp } from "./server.ts";
import { enableProcessMetrics } from "../platform/mod.ts";

configureLog("proxy");
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
  const dir = dataDir();
  const port = Number(Deno.env.get("PROXY_PORT") || 8001);
  const hostname = Deno.env.get("PROXY_HOST") || "127.0.0.1";
  const vaultUrl = Deno.env.get("VAULT_URL") ||
    `http://127.0.0.1:${Deno.env.get("VAULT_PORT") || 8002}`;
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
