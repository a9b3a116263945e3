/**
 * The key-vault process: `deno run -A key-vault/main.ts`. Reads its configuration and
 * secrets (`vault-master.key`, `proxy-vault.key`), migrates, loads or creates its
 * sealed secrets, writes the CA certificate to `DATA_DIR/ca.pem` (public; what the demo
 * bank and `deno task verify` pin), and serves on `VAULT_HOST:VAULT_PORT` (default 127.0.0.1:8002).
 * Logs `{"event":"listening","port":…}` once ready. Seals the audit chain every 250 ms
 * and prunes expired guard state and idempotency keys every minute. Stops cleanly on SIGINT / SIGTERM.
 *
 * @module
 */
import { importHmacKey } from "../platform/mod.ts";
import { configureLog, log, logLifecycle } from "../platform/mod.ts";
import { readSecret } from "../platform/mod.ts";
import { publishAnchorFile } from "../platform/mod.ts";
import { createVaultApp } from "./app.ts";
import { sealAudit } from "./audit.ts";
import { writeCaFile } from "./ca.ts";
import { vaultConfigFromEnv } from "./config.ts";
import { isUnavailable } from "./db.ts";
import { pruneGuardState } from "./guard.ts";
import { pruneIdempotencyKeys } from "./operations/mod.ts";
import { openVaultState } from "./state.ts";
import { enableProcessMetrics } from "../platform/mod.ts";

configureLog("key-vault");
enableProcessMetrics("key-vault");

async function main(): Promise<void> {
  const config = vaultConfigFromEnv();
  const master = await readSecret("vault-master.key", config.dataDir);
  const proxyRaw = await readSecret("proxy-vault.key", config.dataDir);
  const proxyKey = await importHmacKey(proxyRaw);
  proxyRaw.fill(0);
  const vault = await openVaultState(config, master);
  master.fill(0);
  // The public trust anchors the applet build compiles in (docs/trust-anchors.md).
  await publishAnchorFile(config.dataDir, "vault", vault.anchors);
  // Before listening: once the vault answers, the file is there.
  await writeCaFile(`${config.dataDir}/ca.pem`, vault.ca.pem).catch((err) =>
    log("warn", "ca_file_not_written", { error: err instanceof Error ? err.message : String(err) })
  );

  const app = createVaultApp(vault, proxyKey);
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ port, hostname }) => {
      logLifecycle("listening", { port, hostname, db: vault.dbKind });
    },
  }, app.fetch);

  let sealing = false;
  const sealTimer = setInterval(async () => {
    if (sealing) return;
    sealing = true;
    try {
      await sealAudit(vault.db);
    } catch (err) {
      if (!isUnavailable(err)) log("error", "audit_seal_failed", { error: String(err) });
    } finally {
      sealing = false;
    }
  }, config.sealIntervalMs ?? 250);
  const pruneTimer = setInterval(() => {
    Promise.all([pruneGuardState(vault.db), pruneIdempotencyKeys(vault.db)]).catch((err) => {
      if (!isUnavailable(err)) log("error", "prune_failed", { error: String(err) });
    });
  }, 60_000);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "stopping", { signal });
    clearInterval(sealTimer);
    clearInterval(pruneTimer);
    await server.shutdown();
    await sealAudit(vault.db).catch(() => {});
    await vault.close();
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
