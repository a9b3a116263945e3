/**
 * The end user's address as the web server should see it (docs/operations.md,
 * "Deployment behind TLS"). Directly connected clients: the TCP peer. Behind a TLS
 * terminator listed in `TRUSTED_PROXIES` (comma-separated addresses, default none):
 * the right-most `X-Forwarded-For` entry that is not itself a trusted proxy, so a
 * client cannot choose its own address by sending the header (a value it adds is to
 * the left of what the terminator appends). Anything malformed falls back to the peer.
 *
 * The address matters: the web server's own session limit and the vault's per-address
 * rate limits key on it (docs/rate-limits.md).
 *
 * @module
 */
import type { Context } from "hono";

const _ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;

/** Parses `TRUSTED_PROXIES`. */
export function parseTrustedProxies(raw: string | undefined): ReadonlySet<string> {
  const out = new Set<string>();
  for (const part of (raw ?? "").split(",")) {
    const a = part.trim();
    if (!a) continue;
    if (!_ADDRESS.test(a)) throw new Error(`config: TRUSTED_PROXIES: ${a} is not an IP address`);
    out.add(a);
  }
  return out;
}

/** The client's address from the TCP peer and the `X-Forwarded-For` header. */
export function resolveClientAddress(
  peer: string,
  forwardedFor: string | null | undefined,
  trusted: ReadonlySet<string>,
): string {
  if (!forwardedFor || !trusted.has(peer)) return peer;
  const hops = forwardedFor.split(",").map((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (!_ADDRESS.test(hop)) return peer;
    if (!trusted.has(hop)) return hop;
  }
  return peer;
}

/** The client address of a request to this server, behind the `trusted` proxies. */
export function clientAddressOf(trusted: ReadonlySet<string>): (c: Context) => string {
  return function clientAddress(c: Context): string {
    const env = c.env as { remoteAddr?: { hostname?: string } } | undefined;
    return resolveClientAddress(
      env?.remoteAddr?.hostname ?? "",
      c.req.header("x-forwarded-for"),
      trusted,
    );
  };
}
