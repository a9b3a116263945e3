/**
 * The CA certificate, PUB(i,s) (DESIGN.md §2 step 1): from the vault's `ca.get`,
 * cached five minutes in memory. One cache serves both places that hand it out, the
 * session offer (`GET /api/session`) and `GET /ca.pem`.
 *
 * @module
 */
import { ApiError } from "../platform/mod.ts";
import type { VaultCaller } from "./vault_caller.ts";

/** The CA certificate (PEM), asked for on behalf of `client`; 503 if the vault has none. */
export type IntegrityCert = (client: string) => Promise<string>;

const _TTL_MS = 5 * 60_000;

/** A cached source of the CA certificate. */
export function integrityCertSource(vault: VaultCaller, now: () => number): IntegrityCert {
  let cache: { pem: string; at: number } | null = null;
  return async function integrityCert(client: string): Promise<string> {
    if (cache && now() - cache.at < _TTL_MS) return cache.pem;
    const r = await vault.call("ca.get", {}, client);
    const pem = typeof r.certificate === "string" ? r.certificate : null;
    if (!pem) throw new ApiError(503, "vault_unavailable", "the CA certificate is unavailable");
    cache = { pem, at: now() };
    return pem;
  };
}
