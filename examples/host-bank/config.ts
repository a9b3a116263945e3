/**
 * The demo bank's configuration, read once from the environment at start (README;
 * its port as in the topology table, `platform/topology.ts`).
 *
 * @module
 */
import { dataDir, processSpec } from "../../platform/mod.ts";
import { amountMinor } from "../../protocol/mod.ts";

/** Everything the bank process reads at start. */
export interface HostBankConfig {
  /** `HOST_BANK_HOST` (127.0.0.1). */
  host: string;
  /** `HOST_BANK_PORT` (8003; 0 picks a free port). */
  port: number;
  /** `DATA_DIR` (./data): the bank's keys and ledger are in its `host-bank/`. */
  dataDir: string;
  /** `HOST_BANK_CURRENCY` (GBP), three capital letters. */
  currency: string;
  /** `HOST_BANK_OPENING_BALANCE` (1000.00) in minor units: what a new account starts with. */
  openingBalance: number;
  /** `ROAMSIGN_URL`: the web server whose public directory is checked (http://127.0.0.1:8000). */
  directoryUrl: string;
  /** `ROAMSIGN_CA_FILE`: the roamsign CA certificate to pin. */
  caFile?: string;
  /** `ROAMSIGN_CA_INSECURE_FETCH=1` (development only): trust the directory's `/ca.pem`. */
  insecureFetch: boolean;
  /** `LOG_LEVEL` (info). */
  logLevel?: string;
}

/** Reads the bank's configuration; throws (`config: …`) when it is unusable. */
export function hostBankConfigFromEnv(): HostBankConfig {
  const env = (k: string, d: string) => Deno.env.get(k) || d;
  const bank = processSpec("host-bank");
  const web = processSpec("web");
  const currency = env("HOST_BANK_CURRENCY", "GBP");
  if (!/^[A-Z]{3}$/.test(currency)) throw new Error("config: HOST_BANK_CURRENCY must be 3 letters");
  const openingBalance = amountMinor(env("HOST_BANK_OPENING_BALANCE", "1000.00"));
  const caFile = Deno.env.get("ROAMSIGN_CA_FILE");
  const insecureFetch = Deno.env.get("ROAMSIGN_CA_INSECURE_FETCH") === "1";
  if (!caFile && !insecureFetch) {
    // Trusting whatever /ca.pem the directory first answers would let that server (or
    // anyone on the way) certify keys of its choosing: fail closed.
    throw new Error(
      "config: ROAMSIGN_CA_FILE is not set: give the roamsign CA certificate to pin " +
        "(deno task start passes DATA_DIR/ca.pem); ROAMSIGN_CA_INSECURE_FETCH=1 trusts " +
        "the directory's /ca.pem instead (development only)",
    );
  }
  return {
    port: Number(env(bank.portEnv, String(bank.defaultPort))),
    host: env("HOST_BANK_HOST", "127.0.0.1"),
    dataDir: dataDir(),
    currency,
    openingBalance,
    directoryUrl: env(web.urlEnv, `http://127.0.0.1:${web.defaultPort}`),
    caFile,
    insecureFetch,
    logLevel: Deno.env.get("LOG_LEVEL"),
  };
}
