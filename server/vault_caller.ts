/**
 * The vault as the web server sees it: an operation called through the proxy with
 * the web server's HMAC key (platform/client.ts), on behalf of one client address.
 *
 * @module
 */
import { ApiError, createProxyClient, log } from "../platform/mod.ts";

/** An authenticated call to the vault, through the proxy. */
export interface VaultCaller {
  /** Resolves with the operation's result; rejects with {@link ApiError} (4xx as the vault said, 503 if unreachable). */
  call(
    op: string,
    body: Record<string, unknown>,
    clientAddress: string,
  ): Promise<Record<string, unknown>>;
}

/** Wraps the proxy client: 5xx and transport failures become a retryable 503 for the user. */
export function vaultCaller(client: ReturnType<typeof createProxyClient>): VaultCaller {
  return {
    async call(op, body, clientAddress) {
      try {
        const r = await client.call(op, body, { clientAddress });
        return (r ?? {}) as Record<string, unknown>;
      } catch (err) {
        // 4xx as the vault said; 503/504 keep their meaning (retry; may or may not have run).
        if (
          err instanceof ApiError && (err.status < 500 || err.status === 503 || err.status === 504)
        ) {
          throw err;
        }
        log("warn", "vault_call_failed", {
          op,
          code: err instanceof ApiError ? err.code : "transport",
        });
        throw new ApiError(503, "vault_unavailable", "the key vault is unavailable; try again");
      }
    },
  };
}
