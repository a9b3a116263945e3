/**
 * The proxy's configuration, read once from the environment at start (every variable
 * is in the README; ports and URLs as in the topology table, `platform/topology.ts`).
 *
 * @module
 */
import { dataDir, localUrl, processSpec } from "../platform/mod.ts";

/** Everything the proxy process reads at start. */
export interface ProxyConfig {
  /** `PROXY_HOST` (127.0.0.1). */
  host: string;
  /** `PROXY_PORT` (8001; 0 picks a free port). */
  port: number;
  /** `VAULT_URL` (http://127.0.0.1:$VAULT_PORT, 8002). */
  vaultUrl: string;
  /** `DATA_DIR` (./data): its `secrets/` holds the proxy's keys. */
  dataDir: string;
  /** `LOG_LEVEL` (info). */
  logLevel?: string;
}

/** Reads the proxy's configuration. */
export function proxyConfigFromEnv(): ProxyConfig {
  const env = (name: string) => Deno.env.get(name);
  const proxy = processSpec("proxy");
  const vault = processSpec("key-vault");
  return {
    host: env("PROXY_HOST") || "127.0.0.1",
    port: Number(env(proxy.portEnv) || proxy.defaultPort),
    vaultUrl: env(vault.urlEnv) || localUrl(Number(env(vault.portEnv) || vault.defaultPort)),
    dataDir: dataDir(),
    logLevel: env("LOG_LEVEL"),
  };
}
