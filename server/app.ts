/**
 * The public web server (DESIGN.md §1, §2 steps 1–7): serves the applet and
 * its manifest, bootstraps sessions, carries the KS(m,a) channel, relays the
 * user's operations to the vault through the proxy, verifies submitted
 * signatures with WebCrypto, and shows the public directory.
 *
 * Routes (docs/architecture.md): `GET /`, `/applet/<sha256>.{js,wasm,css}`,
 * `/.well-known/roamsign/manifest.json`, `GET /api/session`,
 * `POST /api/session/key`, `POST /api/rpc`, `GET /api/host`,
 * `GET /directory/<identity>`, `GET /directory/<identity>/history`, `GET /ca.pem`,
 * `GET /crl.pem`, `GET /healthz`, `POST /api/reports` (Integrity-Policy reports,
 * server/routes/reports.ts).
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { ApiError, notFound, onError } from "../platform/mod.ts";
import { B64U_PATTERN, powProofSchema } from "../platform/mod.ts";
import { log } from "../platform/mod.ts";
import { b64uDecode, b64uEncode } from "../protocol/mod.ts";
import { fromUtf8, utf8, wipe } from "../protocol/mod.ts";
import { ChannelError, MAX_CLOCK_SKEW_MS, open, requestNonce, seal } from "../protocol/mod.ts";
import { parseCertificate, pemDecode } from "../protocol/mod.ts";
import { IDENTITY_PATTERN } from "../protocol/mod.ts";
import { accessLog } from "./access_log.ts";
import { cacheControl } from "./cache_control.ts";
import type { ConfidentialityKey } from "../platform/mod.ts";
import { secureHeaders } from "./secure_headers.ts";
import { logRefusal, noteRequest } from "./refusal_log.ts";
import type { ServerSession, SessionStore } from "./sessions.ts";
import type { HostRelay } from "./host_relay.ts";
import { clientAddressOf } from "./client_address.ts";
import { httpMetrics, mountReadiness, type ReadinessCheck } from "../platform/mod.ts";
import { AddressLimit } from "./address_limit.ts";
import type { VaultCaller } from "./vault_caller.ts";

export type { VaultCaller };
import { reportsRoutes } from "./routes/reports.ts";
import { appletRoutes } from "./routes/applet.ts";
import { directoryRoutes } from "./routes/directory.ts";
import { hostRoutes } from "./routes/host.ts";
import { sessionRoutes } from "./routes/session.ts";
import { integrityCertSource } from "./integrity_cert.ts";
import { jsonBody, parseWith, sessionOf } from "./routes/request.ts";

/** What the app needs. */
export interface AppDeps {
  vault: VaultCaller;
  sessions: SessionStore;
  confidentiality: ConfidentialityKey;
  /** Directory holding `index.html`, `manifest.json` and `applet/`. */
  distDir: string;
  /** The host application (examples/host-bank), if one is configured. */
  host?: HostRelay;
  /** `/readyz` checks (server/operator.ts); without them `/readyz` is not served. */
  readiness?: Record<string, ReadinessCheck>;
  /** Per-address limit on opening sessions (docs/rate-limits.md); none if absent. */
  sessionLimit?: AddressLimit;
  /** Per-address limit on `POST /api/reports` (default 30 a minute). */
  reportLimit?: AddressLimit;
  /** TLS terminators whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`); none if absent. */
  trustedProxies?: ReadonlySet<string>;
  /** The `Strict-Transport-Security` value (`HSTS=1`, server/config.ts); none if absent. */
  hsts?: string | false;
  now?: () => number;
}

const _B64U = B64U_PATTERN;
const b64u = (max: number) => z.string().max(max).regex(_B64U, "expected base64url");
const identity = z.string().regex(IDENTITY_PATTERN, "bad identity");
const registration = z.object({
  identity,
  fullName: z.string().min(1).max(200),
  accountNumber: z.string().min(1).max(64),
  address: z.string().min(1).max(500),
}).strict();
const keyRecord = z.record(z.string(), z.unknown()).refine(
  (v) => JSON.stringify(v).length <= 16_384,
  "key record too large",
);

/** Schemas of the operations the channel carries. */
const _OPS = {
  "register.start": z.object({
    identity,
    registrationRequest: b64u(2048),
    binding: b64u(64),
    reauthLoginId: b64u(64).optional(),
    pow: powProofSchema.optional(),
  }).strict(),
  apply: z.object({
    registration,
    spki: b64u(2048),
    keyRecord,
    registrationRecord: b64u(4096),
    pop: b64u(1024),
    nonce: b64u(64),
    idempotencyKey: b64u(64).optional(),
  }).strict(),
  consent: z.object({
    registration,
    phrase: z.string().min(1).max(64),
    idempotencyKey: b64u(64).optional(),
  }).strict(),
  "login.start": z.object({
    identity,
    startLoginRequest: b64u(2048),
    pow: powProofSchema.optional(),
  })
    .strict(),
  "login.finish": z.object({ loginId: z.string().min(1).max(128), finishLoginRequest: b64u(2048) })
    .strict(),
  "reauth.start": z.object({
    identity,
    startLoginRequest: b64u(2048),
    pow: powProofSchema.optional(),
  })
    .strict(),
  "reauth.finish": z.object({ loginId: z.string().min(1).max(128), finishLoginRequest: b64u(2048) })
    .strict(),
  "registration.update": z.object({
    registration,
    keyRecord,
    nonce: b64u(64),
    signature: b64u(1024),
  }).strict(),
  reregister: z.object({
    identity,
    spki: b64u(2048),
    keyRecord,
    registrationRecord: b64u(4096),
    nonce: b64u(64),
    signature: b64u(1024),
    idempotencyKey: b64u(64).optional(),
    reauthLoginId: b64u(64).optional(),
  }).strict(),
  revoke: z.object({
    identity,
    reason: z.string().min(1).max(200).optional(),
    reauthLoginId: b64u(64).optional(),
    nonce: b64u(64),
    signature: b64u(1024),
    idempotencyKey: b64u(64).optional(),
  }).strict(),
  "host.submit": z.object({
    key: b64u(1024),
    iv: b64u(32),
    ct: b64u(200_000),
  }).strict(),
  "message.submit": z.object({
    message: b64u(87_382), // 64 KiB
    signature: b64u(1024),
    alg: z.enum(["RSASSA-PKCS1-v1_5-SHA256", "RSA-PSS-SHA256"]).default(
      "RSASSA-PKCS1-v1_5-SHA256",
    ),
  }).strict(),
  "session.close": z.object({}).strict(),
} as const;

type _OpName = keyof typeof _OPS;

const _envelope = z.object({
  sid: b64u(64),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  iv: b64u(64),
  ct: b64u(200_000),
}).strict();

const _request = z.object({
  op: z.string().max(64),
  ts: z.number().int(),
  args: z.record(z.string(), z.unknown()),
}).strict();

/** Builds the hono app. */
export function createApp(deps: AppDeps): Hono {
  const now = deps.now ?? (() => Date.now());
  const clientAddress = clientAddressOf(deps.trustedProxies ?? new Set());
  const app = new Hono();
  app.use("*", accessLog());
  app.use("*", httpMetrics()); // exposed on the operator listener only (server/operator.ts)
  app.use("*", secureHeaders({ strictTransportSecurity: deps.hsts ?? false }));
  app.use("*", cacheControl());
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: 256 * 1024,
      onError: () => {
        throw new ApiError(413, "body_too_large", "request body larger than 256 KiB");
      },
    }),
  );
  app.onError((err, c) => {
    logRefusal(err, c, clientAddress(c));
    return onError(err, c);
  });
  app.notFound(notFound);

  app.route("/", appletRoutes(deps.distDir));
  app.get("/healthz", (c) => c.json({ ok: true, service: "web" }));
  app.route(
    "/api/reports",
    reportsRoutes({
      limit: deps.reportLimit ?? new AddressLimit({ limit: 30, windowMs: 60_000 }),
      clientAddress,
    }),
  );
  if (deps.readiness) mountReadiness(app, deps.readiness);

  const integrityCert = integrityCertSource(deps.vault, now);
  app.route(
    "/api/session",
    sessionRoutes({
      sessions: deps.sessions,
      confidentiality: deps.confidentiality,
      integrityCert,
      sessionLimit: deps.sessionLimit,
      clientAddress,
    }),
  );

  // ---- the channel -----------------------------------------------------------------------
  app.post("/api/rpc", async (c) => {
    const env = parseWith(_envelope, await jsonBody(c), "rpc");
    const s = sessionOf(deps.sessions, env.sid);
    noteRequest(c, { sid: s.sid, identity: s.identity });
    if (!s.keys) throw new ApiError(409, "session_not_keyed", "send KS before requests");
    if (env.seq <= s.lastSeq) throw new ApiError(409, "replayed_request", "sequence number reused");
    if (env.seq !== s.lastSeq + 1) {
      throw new ApiError(409, "out_of_order", "sequence number skipped");
    }
    if (s.busy) throw new ApiError(409, "request_in_flight", "wait for the previous answer");
    s.busy = true;
    let plaintext: Uint8Array | null = null;
    try {
      try {
        plaintext = await open(s.keys.c2s, "c2s", s.binding, env);
      } catch (err) {
        if (err instanceof ChannelError) {
          throw new ApiError(400, "bad_ciphertext", "request does not authenticate");
        }
        throw err;
      }
      // Authentic: the sequence number is used up whatever happens next.
      s.lastSeq = env.seq;
      deps.sessions.touch(s);
      let parsed: unknown;
      try {
        parsed = JSON.parse(fromUtf8(plaintext));
      } catch {
        throw new ApiError(400, "bad_json", "request plaintext is not JSON");
      }
      const req = parseWith(_request, parsed, "request");
      noteRequest(c, { op: Object.hasOwn(_OPS, req.op) ? req.op : "(unknown)" });
      if (Math.abs(req.ts - now()) > MAX_CLOCK_SKEW_MS) {
        throw new ApiError(400, "stale_request", "request timestamp too far from the server clock");
      }
      if (!Object.hasOwn(_OPS, req.op)) throw new ApiError(400, "unknown_op", "no such operation");
      const op = req.op as _OpName;
      const args = parseWith(_OPS[op], req.args, op) as Record<string, unknown>;
      const result = await _dispatch(deps, s, env.seq, op, args, clientAddress(c));
      const answer = utf8(JSON.stringify(result));
      const sealed = await seal(s.keys.s2c, "s2c", s.binding, env.seq, answer);
      wipe(answer);
      if (op === "session.close") deps.sessions.delete(s.sid);
      return c.json(sealed);
    } finally {
      wipe(plaintext);
      s.busy = false;
    }
  });

  app.route("/", directoryRoutes({ vault: deps.vault, integrityCert, clientAddress }));
  app.route("/api/host", hostRoutes(deps.host));

  return app;
}

async function _checkNonce(s: ServerSession, seq: number, nonce: unknown): Promise<void> {
  if (nonce !== await requestNonce(s.binding, seq)) {
    throw new ApiError(400, "bad_nonce", "nonce is not the one of this request");
  }
}

function _requireSignedIn(s: ServerSession, identity: string): void {
  if (s.identity === null) throw new ApiError(401, "not_signed_in", "sign in first");
  if (s.identity !== identity) {
    throw new ApiError(403, "wrong_identity", "signed in as another identity");
  }
}

async function _dispatch(
  deps: AppDeps,
  s: ServerSession,
  seq: number,
  op: _OpName,
  args: Record<string, unknown>,
  client: string,
): Promise<Record<string, unknown>> {
  const vault = (name: string, body: Record<string, unknown>) =>
    deps.vault.call(name, body, client);
  switch (op) {
    case "register.start":
    case "consent":
      return vault(op, args);
    case "apply":
      await _checkNonce(s, seq, args.nonce);
      return vault(op, args);
    case "login.start": {
      s.identity = null;
      s.pendingLogin = null;
      const r = await vault(op, args);
      if (typeof r.loginId !== "string") {
        throw new ApiError(503, "vault_unavailable", "login did not start");
      }
      s.pendingLogin = { loginId: r.loginId, identity: args.identity as string };
      return r;
    }
    case "login.finish": {
      const pending = s.pendingLogin;
      if (!pending || pending.loginId !== args.loginId) {
        throw new ApiError(409, "no_pending_login", "no such login in this session");
      }
      s.pendingLogin = null;
      const r = await vault(op, args);
      s.identity = pending.identity;
      return r;
    }
    case "reauth.start": {
      // A fresh OPAQUE login by the signed-in user before reregister/revoke (docs/
      // lifecycle.md): the vault's login.start, rate-limited in the `login` class.
      _requireSignedIn(s, args.identity as string);
      s.pendingReauth = null;
      const r = await vault("login.start", args);
      if (typeof r.loginId !== "string") {
        throw new ApiError(503, "vault_unavailable", "login did not start");
      }
      s.pendingReauth = { loginId: r.loginId, identity: args.identity as string };
      return r;
    }
    case "reauth.finish": {
      const pending = s.pendingReauth;
      if (!pending || pending.loginId !== args.loginId) {
        throw new ApiError(409, "no_pending_login", "no such re-authentication in this session");
      }
      _requireSignedIn(s, pending.identity);
      s.pendingReauth = null;
      await vault("login.finish", { ...args, reauth: true });
      // The key record is not sent again: the applet holds it already.
      return { loginId: pending.loginId, reauthenticated: true };
    }
    case "registration.update": {
      _requireSignedIn(s, (args.registration as { identity: string }).identity);
      await _checkNonce(s, seq, args.nonce);
      return vault(op, args);
    }
    case "reregister": {
      _requireSignedIn(s, args.identity as string);
      await _checkNonce(s, seq, args.nonce);
      return vault(op, args);
    }
    case "revoke": {
      _requireSignedIn(s, args.identity as string);
      await _checkNonce(s, seq, args.nonce);
      const r = await vault(op, args);
      s.identity = null; // the key is gone: nothing more to do as this user
      return r;
    }
    case "host.submit": {
      if (s.identity === null) throw new ApiError(401, "not_signed_in", "sign in first");
      if (!deps.host) throw new ApiError(404, "no_host", "no host application is configured");
      const reply = await deps.host.submit(args as { key: string; iv: string; ct: string });
      return { ...reply };
    }
    case "message.submit": {
      if (s.identity === null) throw new ApiError(401, "not_signed_in", "sign in first");
      return await _verifySubmission(deps, s.identity, args, client);
    }
    case "session.close":
      s.identity = null;
      return { status: "closed" };
  }
}

/**
 * Verifies a submitted signature against the signer's current certificate
 * with Deno's WebCrypto, an implementation independent of the applet's.
 */
async function _verifySubmission(
  deps: AppDeps,
  identity: string,
  args: Record<string, unknown>,
  client: string,
): Promise<Record<string, unknown>> {
  const entry = await deps.vault.call("directory.get", { identity }, client);
  if (entry.status !== "active" || typeof entry.certificate !== "string") {
    throw new ApiError(409, "certificate_not_active", "the signer has no active certificate");
  }
  let message: Uint8Array, signature: Uint8Array;
  try {
    message = b64uDecode(args.message as string);
    signature = b64uDecode(args.signature as string);
  } catch {
    throw new ApiError(400, "bad_request", "message or signature is not base64url");
  }
  const cert = parseCertificate(pemDecode(entry.certificate));
  const pss = args.alg === "RSA-PSS-SHA256";
  const algorithm = pss
    ? { name: "RSA-PSS", hash: "SHA-256" }
    : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const key = await crypto.subtle.importKey("spki", cert.spki as BufferSource, algorithm, false, [
    "verify",
  ]);
  const ok = await crypto.subtle.verify(
    pss ? { name: "RSA-PSS", saltLength: 32 } : algorithm,
    key,
    signature as BufferSource,
    message as BufferSource,
  );
  if (!ok) throw new ApiError(400, "invalid_signature", "signature does not verify");
  log("info", "message_verified", { bytes: message.length, serial: cert.serialHex });
  return {
    verified: true,
    serial: cert.serialHex,
    digest: b64uEncode(
      new Uint8Array(await crypto.subtle.digest("SHA-256", message as BufferSource)),
    ),
  };
}
