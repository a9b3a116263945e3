/**
 * The web server's security log (docs/hostile-input.md, "What is audited"): refusals
 * that only the web server can see — the KS channel's replay, reordering, staleness and
 * forgery checks, the session's sign-in checks — never reach the vault, so they get no
 * audit row there. Each one is instead one structured JSON line, event `refused`, with
 * the code, the route, the channel operation when it was known, and tags (never the
 * values) of the session, the client address and the signed-in identity:
 *
 *   {"level":"warn","event":"refused","code":"replayed_request","route":"/api/rpc",
 *    "op":null,"sid":"4be2…","client":"9c1e…","identity":null}
 *
 * Refusals by the vault and the proxy are not repeated here: the vault audits them
 * (key-vault/refusals.ts) and the proxy logs each decision.
 *
 * @module
 */
import type { Context } from "hono";
import { ApiError } from "../platform/mod.ts";
import { identityTagSync, log } from "../platform/mod.ts";
import { webRefusals } from "../platform/mod.ts";

/** The web server's own refusal codes that say someone is probing or replaying. */
export const SECURITY_CODES: ReadonlySet<string> = new Set([
  "replayed_request",
  "out_of_order",
  "request_in_flight",
  "bad_ciphertext",
  "stale_request",
  "bad_nonce",
  "bad_session_key",
  "session_already_keyed",
  "no_pending_login",
  "not_signed_in",
  "wrong_identity",
  "unknown_op",
  "invalid_signature",
]);

/** What the route knew when it refused. */
export interface RefusalContext {
  op?: string;
  sid?: string;
  identity?: string | null;
}

const _known = new WeakMap<Request, RefusalContext>();

/** Remembers what the current request is about (for the log line if it is refused). */
export function noteRequest(c: Context, ctx: RefusalContext): void {
  _known.set(c.req.raw, { ..._known.get(c.req.raw), ...ctx });
}

/** Logs the refusal when it is one of {@link SECURITY_CODES}. */
export function logRefusal(err: unknown, c: Context, client: string): void {
  if (!(err instanceof ApiError) || !SECURITY_CODES.has(err.code)) return;
  const k = _known.get(c.req.raw) ?? {};
  webRefusals.inc({ code: err.code });
  log("warn", "refused", {
    code: err.code,
    route: c.req.routePath || new URL(c.req.url).pathname,
    op: k.op ?? null,
    sid: k.sid ? identityTagSync(`sid\u0000${k.sid}`) : null,
    client: client ? identityTagSync(`address\u0000${client}`) : null,
    identity: k.identity ? identityTagSync(k.identity) : null,
  });
}
