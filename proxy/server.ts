/**
 * The fire-wall (the patent's 137): the only path from the web server and the admin
 * CLI to the vault. For `POST /v1/<op>` it checks, in order, and refuses with a stable
 * code (docs/errors.md):
 *
 *   auth headers present and well formed (401 `unsigned`, `bad_auth_header`), timestamp
 *   within ±30 s (401 `stale_request`), known caller key (401 `unknown_key`), operation
 *   on the allow-list (404 `op_not_allowed`) and open to this caller (403
 *   `op_forbidden`), JSON content type (415), body within the operation's limit (413
 *   `body_too_large`), HMAC (401 `bad_signature`), JSON (400 `bad_json`), schema (400
 *   `invalid_request`, or the precheck's code).
 *
 * It then re-signs the same body with its own key, forwarding the caller's timestamp,
 * nonce and client address, and the vault applies the shared guard state (single-use
 * nonce: 401 `replayed_nonce`; rate limits: 429 `rate_limited` / `backoff`) in the same
 * round trip (docs/rate-limits.md). Vault down: 503 `vault_unavailable`. One JSON log
 * line per decision, without secrets; identities as tags.
 *
 * @module
 */
import { Hono } from "hono";
import { readBody } from "../platform/mod.ts";
import { ApiError, notFound, onError } from "../platform/mod.ts";
import {
  type HmacKey,
  readAuthHeaders,
  sha256HexSync,
  signRequest,
  verifySignature,
} from "../platform/mod.ts";
import { identityTagSync, log } from "../platform/mod.ts";
import {
  httpCheck,
  httpMetrics,
  mountMetrics,
  mountReadiness,
  proxyDecisions,
} from "../platform/mod.ts";
import {
  type Caller,
  MAX_BODY,
  opSpec,
  parseJsonBytes,
  parseOpBody,
  PROXY_KEY_ID,
} from "../platform/mod.ts";
import { postUpstream } from "../platform/mod.ts";

/** What the proxy needs. */
export interface ProxyOptions {
  vaultUrl: string;
  /** Caller keys by key id (`web`, `admin`). */
  callerKeys: Partial<Record<Caller, HmacKey>>;
  /** The proxy's key towards the vault. */
  vaultKey: HmacKey;
  /** Upstream timeout (default 10 s). */
  timeoutMs?: number;
}

/** Builds the proxy's hono app. */
export function createProxyApp(options: ProxyOptions): Hono {
  const vaultUrl = options.vaultUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const app = new Hono();
  app.onError(onError);
  app.notFound(notFound);

  app.get("/healthz", (c) => c.json({ ok: true, service: "proxy" }));
  // Operator view (docs/operations.md): counts by allow-listed op and code, no identities.
  app.use("*", httpMetrics());
  mountMetrics(app);
  mountReadiness(app, { vault: httpCheck(`${vaultUrl}/readyz`) });

  app.all("/v1/:op", async function proxyRequest(c) {
    const started = performance.now();
    const op = c.req.param("op");
    const path = `/v1/${op}`;
    let caller: string | undefined;
    let identity: string | undefined;
    let status = 500;
    let code: string | undefined;
    let where = "proxy";
    try {
      if (c.req.method !== "POST") throw new ApiError(405, "method_not_allowed", "use POST");
      const auth = readAuthHeaders(c.req.raw.headers);
      caller = auth.keyId;
      const key = Object.hasOwn(options.callerKeys, auth.keyId)
        ? options.callerKeys[auth.keyId as Caller]
        : undefined;
      if (!key) throw new ApiError(401, "unknown_key", "unknown caller key");
      const spec = opSpec(op);
      if (!spec) {
        await c.req.raw.body?.cancel().catch(() => {});
        throw new ApiError(404, "op_not_allowed", "operation is not on the allow-list");
      }
      if (!spec.callers.includes(auth.keyId as Caller)) {
        throw new ApiError(403, "op_forbidden", "operation not allowed for this caller");
      }
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/json(\s*;|$)/i.test(type)) {
        throw new ApiError(415, "unsupported_media_type", "send application/json");
      }
      const bytes = await readBody(c.req.raw, Math.min(spec.maxBody, MAX_BODY));
      const bodyHash = sha256HexSync(bytes);
      await verifySignature(key, auth, "POST", path, bytes, bodyHash);
      const body = parseOpBody(spec, parseJsonBytes(bytes));
      identity = spec.identityOf?.(body as never);

      const headers = await signRequest({
        key: options.vaultKey,
        keyId: PROXY_KEY_ID,
        method: "POST",
        path,
        body: bytes,
        client: auth.keyId === "admin" ? "" : auth.client,
        ts: auth.ts,
        nonce: auth.nonce,
        bodyHash,
      });
      where = "vault";
      const { upstream, text } = await postUpstream(
        vaultUrl + path,
        headers,
        bytes,
        timeoutMs,
        async (res) => ({ upstream: res, text: await res.text() }),
        (timedOut) =>
          new ApiError(
            timedOut ? 504 : 503,
            timedOut ? "vault_timeout" : "vault_unavailable",
            timedOut ? "the vault did not answer in time" : "the vault is unavailable, retry later",
          ),
      );
      status = upstream.status;
      if (status >= 400) {
        try {
          code = JSON.parse(text)?.error?.code;
        } catch {
          code = undefined;
        }
      }
      return new Response(text, {
        status,
        headers: {
          "content-type": upstream.headers.get("content-type") ?? "application/json",
          "cache-control": "no-store",
        },
      });
    } catch (err) {
      if (err instanceof ApiError) {
        status = err.status;
        code = err.code;
      }
      throw err;
    } finally {
      proxyDecisions.inc({
        op: opSpec(op) ? op : "(unknown)",
        decision: status < 400 ? "allow" : "deny",
        code: status < 400 ? "ok" : code ?? String(status),
      });
      log(status < 400 ? "info" : "warn", "decision", {
        decision: status < 400 ? "allow" : "deny",
        op: op.slice(0, 64),
        caller,
        identity: identity ? identityTagSync(identity) : undefined,
        status,
        code,
        by: status < 400 ? undefined : where,
        ms: Math.round((performance.now() - started) * 100) / 100,
      });
    }
  });
  return app;
}
