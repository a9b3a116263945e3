/**
 * The demo bank as its own process (`deno run -A examples/host-bank/main.ts`,
 * started by `deno task start` through `server/start.ts`). Loads or creates its keys
 * and ledger in `DATA_DIR/host-bank/` and serves the app of `app.ts`.
 *
 * Environment (README), read once in `config.ts`: `HOST_BANK_PORT` (8003; 0 picks a free port),
 * `HOST_BANK_HOST` (127.0.0.1), `DATA_DIR` (./data), `ROAMSIGN_URL` (the roamsign
 * web server whose public directory signatures are checked against,
 * http://127.0.0.1:8000), `ROAMSIGN_CA_FILE` (the roamsign CA certificate to pin,
 * required: `deno task start` passes the vault's `DATA_DIR/ca.pem`; only with
 * `ROAMSIGN_CA_INSECURE_FETCH=1`, a development switch, is `/ca.pem` fetched from the
 * directory and trusted on first use instead), `HOST_BANK_CURRENCY` (GBP),
 * `HOST_BANK_OPENING_BALANCE` (1000.00, what a new account starts with), `LOG_LEVEL`.
 * Logs `{"event":"listening","port":…}` once ready.
 *
 * @module
 */
import { configureLog, log } from "../../platform/mod.ts";
import { createHostApp } from "./app.ts";
import { loadHostKeys } from "./keys.ts";
import { publishAnchorFile } from "../../platform/mod.ts";
import { sha256, toHex } from "../../protocol/mod.ts";
import { parseCertificate, pemDecode } from "../../protocol/mod.ts";
import { Ledger } from "./ledger.ts";
import { bankReadiness } from "./operator.ts";
import { enableProcessMetrics } from "../../platform/mod.ts";
import { hostBankConfigFromEnv } from "./config.ts";

configureLog("host-bank");

/** Starts the bank; resolves once it listens. */
export async function main(): Promise<Deno.HttpServer<Deno.NetAddr>> {
  enableProcessMetrics("host-bank");
  const config = hostBankConfigFromEnv();
  configureLog("host-bank", config.logLevel);
  const { port, host: hostname, dataDir, currency, openingBalance, directoryUrl } = config;
  const keys = await loadHostKeys(dataDir, "bank");
  // The applet pins this key (docs/trust-anchors.md): the build compiles the fingerprint in.
  await publishAnchorFile(dataDir, "host-bank", {
    hosts: { bank: toHex(await sha256(parseCertificate(pemDecode(keys.integrityCert)).spki)) },
  });
  const ledgerPath = `${dataDir}/host-bank/ledger.json`;
  const ledger = await Ledger.open(ledgerPath, { currency, openingBalance });
  const caPem = config.caFile ? await Deno.readTextFile(config.caFile) : undefined;
  if (!caPem) log("warn", "ca_not_pinned", { trusts: `${directoryUrl}/ca.pem` });
  const app = createHostApp({
    name: "bank",
    keys,
    ledger,
    directoryUrl,
    caPem,
    readiness: bankReadiness({ ledgerPath, directoryUrl, caPem }),
  });
  return Deno.serve({
    port,
    hostname,
    onListen: (addr) => log("info", "listening", { port: addr.port, hostname: addr.hostname }),
  }, app.fetch);
}

if (import.meta.main) {
  try {
    const server = await main();
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(sig, () => {
        server.shutdown().finally(() => Deno.exit(0));
      });
    }
  } catch (err) {
    log("error", "start_failed", { error: err instanceof Error ? err.message : String(err) });
    Deno.exit(1);
  }
}
