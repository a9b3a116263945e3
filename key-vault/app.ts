/**
 * The vault's HTTP face: `POST /v1/<op>` for requests signed by the proxy's key
 * (`x-roamsign-key-id: proxy`), `GET /healthz` for the supervisor, and the operator's
 * unsigned `GET /readyz` and `GET /metrics` (counts only, no identity, address or
 * secret: docs/operations.md). Anything else not signed by the proxy gets a 401 with a
 * code and a log line. For each accepted request:
 * verify the HMAC, run the guard (nonce, rate limits; key-vault/guard.ts), re-parse the
 * body with the allow-list's schema, run the operation.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { ApiError, notFound, onError } from "../platform/mod.ts";
import { type HmacKey, readAuthHeaders, verifySignature } from "../platform/mod.ts";
import { identityTagSync, log } from "../platform/mod.ts";
import { type OpName, opSpec, parseJsonBytes, parseOpBody, PROXY_KEY_ID } from "../platform/mod.ts";
import { readBody } from "../platform/mod.ts";
import { isUnavailable } from "./db.ts";
import { guardRequest, rpcNonceExpiry } from "./guard.ts";
import type { PowProof } from "./pow.ts";
import * as repo from "./repositories/mod.ts";
import { type OpContext, runOperation } from "./operations/mod.ts";
import { auditRefusal, refusalAudited } from "./refusals.ts";
import type { VaultState } from "./state.ts";
import { httpMetrics, mountMetrics, mountReadiness, vaultOperations } from "../platform/mod.ts";
import { registerVaultGauges, vaultReadiness } from "./metrics.ts";

/** The 503 every database outage answers with. */
function _unavailable(c: Context, message: string): Response {
  return c.json({ error: { code: "database_unavailable", message, retryable: true } }, 503);
}

/** Builds the vault's hono app. */
export function createVaultApp(vault: VaultState, proxyKey: HmacKey): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    if (isUnavailable(err)) {
      log("error", "database_unavailable", { path: new URL(c.req.url).pathname });
      return _unavailable(c, "database unavailable, retry");
    }
    return onError(err, c);
  });
  app.notFound(notFound);
  // Operator view (docs/operations.md): counts only, no identities; unsigned like /healthz.
  app.use("*", httpMetrics());
  registerVaultGauges(vault);
  mountMetrics(app);
  mountReadiness(app, vaultReadiness(vault));

  app.get("/healthz", async (c) => {
    try {
      await repo.probeUsers(vault.db);
      return c.json({ ok: true, service: "key-vault", db: vault.dbKind });
    } catch (err) {
      if (isUnavailable(err)) return _unavailable(c, "database unavailable");
      throw err;
    }
  });

  app.post("/v1/:op", (c) => vaultRequest(vault, proxyKey, c));
  return app;
}

/** What a refusal by the operation itself records (key-vault/refusals.ts). */
type _Refusal = Omit<Parameters<typeof auditRefusal>[1], "err">;

/** One `POST /v1/<op>`: authenticate, guard, run; a failure is counted, logged, audited. */
async function vaultRequest(vault: VaultState, proxyKey: HmacKey, c: Context): Promise<Response> {
  const started = performance.now();
  const op = c.req.param("op") ?? "";
  const seen: { identity?: string; refused?: _Refusal } = {};
  try {
    const result = await _authenticateAndRun(vault, proxyKey, c, op, seen);
    c.header("cache-control", "no-store");
    return c.json(result as Record<string, unknown>);
  } catch (err) {
    // A refusal by the operation itself rolled its transaction back: record it apart.
    if (seen.refused && refusalAudited(seen.refused.spec, err)) {
      await auditRefusal(vault, { ...seen.refused, err });
    }
    _countFailure(op, err, seen.identity, started);
    throw err;
  }
}

/**
 * Verifies the proxy's signature, re-parses the body with the allow-list's schema, runs
 * the guard and the operation. Sets `seen.identity` once known, and `seen.refused` while
 * the operation runs (what its refusal would audit).
 */
async function _authenticateAndRun(
  vault: VaultState,
  proxyKey: HmacKey,
  c: Context,
  op: string,
  seen: { identity?: string; refused?: _Refusal },
): Promise<unknown> {
  const auth = readAuthHeaders(c.req.raw.headers);
  if (auth.keyId !== PROXY_KEY_ID) {
    throw new ApiError(401, "unknown_key", "the vault accepts only the proxy's key");
  }
  const spec = opSpec(op);
  if (!spec) throw new ApiError(404, "op_not_allowed", "no such operation");
  if (!/^application\/json(\s*;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiError(415, "unsupported_media_type", "send application/json");
  }
  const bytes = await readBody(c.req.raw, spec.maxBody);
  await verifySignature(proxyKey, auth, "POST", new URL(c.req.url).pathname, bytes);
  const body = parseOpBody(spec, parseJsonBytes(bytes));
  const identity = seen.identity = spec.identityOf?.(body as never);
  const clientTag = vault.tags.address(auth.client);
  const now = new Date();
  // Rate-limited classes commit their guard state first (a failing operation must
  // still count). Otherwise the nonce is recorded inside the operation's own
  // transaction (or right after a read), so each request takes effect at most once
  // and costs no extra commit (docs/rate-limits.md).
  const deferNonce = spec.rateClass === "none";
  if (!deferNonce) {
    await guardRequest(vault.db, {
      nonce: auth.nonce,
      ts: auth.ts,
      rateClass: spec.rateClass,
      identity,
      addressTag: clientTag,
      tags: vault.tags,
      pow: (body as { pow?: PowProof }).pow,
      now,
      query: vault.query,
    });
  }
  const ctx: OpContext = {
    vault,
    actor: spec.callers.includes("admin") ? "admin" : "web",
    clientTag,
    now,
    rpcNonce: deferNonce
      ? { nonce: auth.nonce, expiresAt: rpcNonceExpiry(auth.ts, now), consumed: false }
      : undefined,
  };
  seen.refused = { spec, actor: ctx.actor, identity, clientTag, now };
  const result = await runOperation(ctx, spec.name as OpName, body);
  vaultOperations.inc({ op: spec.name, outcome: "ok" });
  seen.refused = undefined;
  return result;
}

/** Counts a failed request by code, and logs it when it is a 401 or a 5xx. */
function _countFailure(op: string, err: unknown, identity: string | undefined, started: number) {
  const status = err instanceof ApiError ? err.status : isUnavailable(err) ? 503 : 500;
  vaultOperations.inc({
    op: opSpec(op) ? op : "(unknown)",
    outcome: err instanceof ApiError
      ? err.code
      : status === 503
      ? "database_unavailable"
      : "internal",
  });
  if (status === 401 || status >= 500) {
    log(status === 401 ? "warn" : "error", "vault_refused", {
      op,
      status,
      code: err instanceof ApiError ? err.code : undefined,
      identity: identity ? identityTagSync(identity) : undefined,
      ms: Math.round((performance.now() - started) * 100) / 100,
    });
  }
}
