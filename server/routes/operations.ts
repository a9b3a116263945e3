/**
 * The operations the channel carries (docs/architecture.md "Public web server"): the
 * web server's one dispatch table, op name → { schema, handler }. Most are relayed to
 * the vault with the user's address after the web server's own checks (sign-in, the
 * nonce of the request; `timestamp` goes to the vault's `tsa.timestamp`); `message.submit`
 * and `session.close` are the web server's
 * own, and `host.submit` goes unopened to the bank (server/host_relay.ts).
 *
 * **Why these schemas are not platform/ops.ts's.** The client meets this schema
 * first; the proxy and the vault re-check relayed ops with theirs. Reusing the
 * platform schema would move a limit the client meets today for every relayed op, so
 * each keeps its own: `b64uChars(n)` counts characters where platform's `b64u(n)` counts
 * bytes and has minimums (`spki`, `signature`, `nonce`, the OPAQUE messages); a
 * `loginId` or `reauthLoginId` here is any short string, there exactly 16 bytes;
 * `register.start`'s `binding` is required here and optional there; a key record is
 * any object of at most 16 KiB of JSON here and checked field by field there; the
 * registration fields are limited to 200/64/500 characters here and twice that there
 * (before NFC); a consent phrase may not be empty here; a revocation reason is any
 * text here and refused with control characters there. Shared by import, not copied:
 * `B64U_PATTERN`, `powProofSchema`, `REGISTRATION_LIMITS` and `MESSAGE_MAX_BYTES`. A
 * refusal by these schemas is worded by server/routes/schema_refusal.ts.
 *
 * @module
 */
import { z } from "zod";
import {
  ApiError,
  log,
  MAX_PASSKEYS,
  passkeySlotSchema,
  powProofSchema,
} from "../../platform/mod.ts";
import {
  b64uDecode,
  b64uEncode,
  b64uLength,
  IDENTITY_PATTERN,
  MESSAGE_MAX_BYTES,
  parseCertificate,
  pemDecode,
  REGISTRATION_LIMITS,
  requestNonce,
} from "../../protocol/mod.ts";
import type { HostRelay } from "../host_relay.ts";
import type { ServerSession } from "../sessions.ts";
import { b64uChars as b64u } from "./request.ts";

/** One operation's call: its session, its request's sequence number, the vault and the bank. */
export interface OpCall {
  session: ServerSession;
  seq: number;
  /** The vault, called on behalf of this request's client address. */
  vault: (op: string, body: Record<string, unknown>) => Promise<Record<string, unknown>>;
  host?: HostRelay;
}

/** An entry of the table. */
export interface Operation<S extends z.ZodType = z.ZodType> {
  schema: S;
  handler(call: OpCall, args: z.infer<S>): Promise<Record<string, unknown>>;
  /** The session is deleted once the answer is sealed. */
  endsSession?: true;
}

function _op<S extends z.ZodType>(
  schema: S,
  handler: Operation<S>["handler"],
  extra: Pick<Operation<S>, "endsSession"> = {},
): Operation<S> {
  return { schema, handler, ...extra };
}

const identity = z.string().regex(IDENTITY_PATTERN, "bad identity");
const registration = z.object({
  identity,
  fullName: z.string().min(1).max(REGISTRATION_LIMITS.fullName),
  accountNumber: z.string().min(1).max(REGISTRATION_LIMITS.accountNumber),
  address: z.string().min(1).max(REGISTRATION_LIMITS.address),
}).strict();
const keyRecord = z.record(z.string(), z.unknown()).refine(
  (v) => JSON.stringify(v).length <= 16_384,
  "key record too large",
);
/** A WebAuthn answer as JSON, checked field by field at the proxy and the vault. */
const webauthnAnswer = z.record(z.string(), z.unknown()).refine(
  (v) => JSON.stringify(v).length <= 16_384,
  "passkey answer too large",
);
const loginFinish = z.object({
  loginId: z.string().min(1).max(128),
  finishLoginRequest: b64u(2048),
}).strict();
const loginStart = z.object({
  identity,
  startLoginRequest: b64u(2048),
  pow: powProofSchema.optional(),
}).strict();

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

/** Relayed unchanged once the request's nonce is checked. */
async function _relaySigned(
  { session: s, seq, vault }: OpCall,
  op: string,
  args: Record<string, unknown> & { nonce: string },
): Promise<Record<string, unknown>> {
  await _checkNonce(s, seq, args.nonce);
  return vault(op, args);
}

/** The table: every operation the channel carries. */
export const OPERATIONS = {
  "register.start": _op(
    z.object({
      identity,
      registrationRequest: b64u(2048),
      binding: b64u(64),
      reauthLoginId: b64u(64).optional(),
      pow: powProofSchema.optional(),
    }).strict(),
    (x, args) => x.vault("register.start", args),
  ),
  apply: _op(
    z.object({
      registration,
      spki: b64u(2048),
      keyRecord,
      registrationRecord: b64u(4096),
      pop: b64u(1024),
      nonce: b64u(64),
      idempotencyKey: b64u(64).optional(),
    }).strict(),
    (x, args) => _relaySigned(x, "apply", args),
  ),
  consent: _op(
    z.object({
      registration,
      phrase: z.string().min(1).max(64),
      idempotencyKey: b64u(64).optional(),
    }).strict(),
    (x, args) => x.vault("consent", args),
  ),
  "login.start": _op(loginStart, async ({ session: s, vault }, args) => {
    s.identity = null;
    s.pendingLogin = null;
    s.pendingPasskey = null;
    const r = await vault("login.start", args);
    if (typeof r.loginId !== "string") {
      throw new ApiError(503, "vault_unavailable", "login did not start");
    }
    s.pendingLogin = { loginId: r.loginId, identity: args.identity };
    return r;
  }),
  "login.finish": _op(loginFinish, async ({ session: s, vault }, args) => {
    const pending = s.pendingLogin;
    if (!pending || pending.loginId !== args.loginId) {
      throw new ApiError(409, "no_pending_login", "no such login in this session");
    }
    s.pendingLogin = null;
    const r = await vault("login.finish", args);
    s.identity = pending.identity;
    return r;
  }),
  // The signed-in applet opened the pending key record its sign-in released (docs/
  // lifecycle.md, "Pending key record"); the MAC is under the OPAQUE session key, which
  // this server never sees, so it can only relay.
  "login.confirm": _op(
    z.object({ identity, mac: b64u(64) }).strict(),
    (x, args) => {
      _requireSignedIn(x.session, args.identity);
      return x.vault("login.confirm", args);
    },
  ),
  // A fresh OPAQUE login by the signed-in user before reregister/revoke (docs/
  // lifecycle.md): the vault's login.start, rate-limited in the `login` class.
  "reauth.start": _op(loginStart, async ({ session: s, vault }, args) => {
    _requireSignedIn(s, args.identity);
    s.pendingReauth = null;
    const r = await vault("login.start", args);
    if (typeof r.loginId !== "string") {
      throw new ApiError(503, "vault_unavailable", "login did not start");
    }
    s.pendingReauth = { loginId: r.loginId, identity: args.identity };
    return r;
  }),
  "reauth.finish": _op(loginFinish, async ({ session: s, vault }, args) => {
    const pending = s.pendingReauth;
    if (!pending || pending.loginId !== args.loginId) {
      throw new ApiError(409, "no_pending_login", "no such re-authentication in this session");
    }
    _requireSignedIn(s, pending.identity);
    s.pendingReauth = null;
    await vault("login.finish", { ...args, reauth: true });
    // The key record is not sent again: the applet holds it already.
    return { loginId: pending.loginId, reauthenticated: true };
  }),
  "registration.update": _op(
    z.object({
      registration,
      keyRecord,
      nonce: b64u(64),
      signature: b64u(1024),
      reauthLoginId: b64u(64).optional(),
    }).strict(),
    async (x, args) => {
      _requireSignedIn(x.session, args.registration.identity);
      return await _relaySigned(x, "registration.update", args);
    },
  ),
  reregister: _op(
    z.object({
      identity,
      registration: registration.optional(),
      spki: b64u(2048),
      keyRecord,
      registrationRecord: b64u(4096),
      nonce: b64u(64),
      signature: b64u(1024),
      idempotencyKey: b64u(64).optional(),
      reauthLoginId: b64u(64).optional(),
      passkeySlots: z.array(passkeySlotSchema).max(MAX_PASSKEYS).optional(),
    }).strict(),
    async (x, args) => {
      _requireSignedIn(x.session, args.identity);
      return await _relaySigned(x, "reregister", args);
    },
  ),
  revoke: _op(
    z.object({
      identity,
      reason: z.string().min(1).max(200).optional(),
      reauthLoginId: b64u(64).optional(),
      nonce: b64u(64),
      signature: b64u(1024),
      idempotencyKey: b64u(64).optional(),
    }).strict(),
    async (x, args) => {
      _requireSignedIn(x.session, args.identity);
      const r = await _relaySigned(x, "revoke", args);
      x.session.identity = null; // the key is gone: nothing more to do as this user
      return r;
    },
  ),
  // Passkeys (docs/passkeys.md): adding, listing and removing one is for the signed-in
  // user; a passkey sign-in signs the session in as the identity the vault released.
  "passkey.register.start": _op(
    z.object({ identity, binding: b64u(64), reauthLoginId: b64u(64) }).strict(),
    async (x, args) => {
      _requireSignedIn(x.session, args.identity);
      return await x.vault("passkey.register.start", args);
    },
  ),
  "passkey.register.finish": _op(
    z.object({
      identity,
      challengeId: b64u(64),
      name: z.string().min(1).max(64),
      response: webauthnAnswer,
      slot: keyRecord,
      reauthLoginId: b64u(64).optional(),
      nonce: b64u(64),
      signature: b64u(1024),
    }).strict(),
    async (x, args) => {
      _requireSignedIn(x.session, args.identity);
      return await _relaySigned(x, "passkey.register.finish", args);
    },
  ),
  "passkey.login.start": _op(
    z.object({
      identity: identity.optional(),
      binding: b64u(64),
      pow: powProofSchema.optional(),
    }).strict(),
    async ({ session: s, vault }, args) => {
      s.identity = null;
      s.pendingLogin = null;
      s.pendingPasskey = null;
      const r = await vault("passkey.login.start", args);
      if (typeof r.challengeId !== "string") {
        throw new ApiError(503, "vault_unavailable", "passkey sign-in did not start");
      }
      s.pendingPasskey = { challengeId: r.challengeId };
      return r;
    },
  ),
  "passkey.login.finish": _op(
    z.object({ challengeId: b64u(64), response: webauthnAnswer }).strict(),
    async ({ session: s, vault }, args) => {
      if (s.pendingPasskey?.challengeId !== args.challengeId) {
        throw new ApiError(409, "no_pending_login", "no such passkey sign-in in this session");
      }
      s.pendingPasskey = null;
      const r = await vault("passkey.login.finish", args);
      const released = (r.registration as { identity?: unknown } | undefined)?.identity;
      if (typeof released !== "string") {
        throw new ApiError(503, "bad_upstream_response", "the vault released no identity");
      }
      s.identity = released;
      return r;
    },
  ),
  "passkey.list": _op(z.object({ identity }).strict(), async (x, args) => {
    _requireSignedIn(x.session, args.identity);
    return await x.vault("passkey.list", args);
  }),
  "passkey.remove": _op(
    z.object({
      identity,
      credentialId: b64u(1400),
      reauthLoginId: b64u(64).optional(),
      nonce: b64u(64),
      signature: b64u(1024),
    }).strict(),
    async (x, args) => {
      _requireSignedIn(x.session, args.identity);
      return await _relaySigned(x, "passkey.remove", args);
    },
  ),
  "keyrecord.upgrade": _op(
    z.object({ identity, keyRecord, nonce: b64u(64), signature: b64u(1024) }).strict(),
    async (x, args) => {
      _requireSignedIn(x.session, args.identity);
      return await _relaySigned(x, "keyrecord.upgrade", args);
    },
  ),
  "host.submit": _op(
    z.object({
      key: b64u(1024),
      iv: b64u(32),
      ct: b64u(200_000),
    }).strict(),
    async ({ session: s, host }, args) => {
      if (s.identity === null) throw new ApiError(401, "not_signed_in", "sign in first");
      if (!host) throw new ApiError(404, "no_host", "no host application is configured");
      // The bank acts only for the instruction's signer, signed in (docs/host-bank.md).
      const reply = await host.submit(args, s.identity);
      return { ...reply };
    },
  ),
  "message.submit": _op(
    z.object({
      message: b64u(b64uLength(MESSAGE_MAX_BYTES)), // 64 KiB: message_too_long above
      signature: b64u(1024),
      alg: z.enum(["RSASSA-PKCS1-v1_5-SHA256", "RSA-PSS-SHA256"]).default(
        "RSASSA-PKCS1-v1_5-SHA256",
      ),
    }).strict(),
    async ({ session: s, vault }, args) => {
      if (s.identity === null) throw new ApiError(401, "not_signed_in", "sign in first");
      return await _verifySubmission(vault, s.identity, args);
    },
  ),
  // RFC 3161 token from the vault's TSA over a document signature's value (docs/
  // documents.md): for signed-in users only, so the TSA is not a public signing service.
  "timestamp": _op(
    z.object({ imprint: b64u(43), nonce: b64u(22).optional() }).strict(),
    ({ session: s, vault }, args) => {
      if (s.identity === null) throw new ApiError(401, "not_signed_in", "sign in first");
      return vault("tsa.timestamp", args);
    },
  ),
  "session.close": _op(z.object({}).strict(), ({ session: s }) => {
    s.identity = null;
    return Promise.resolve({ status: "closed" });
  }, { endsSession: true }),
} as const;

/** The entry of `name`, or undefined when the channel carries no such operation. */
export function operation(name: string): Operation | undefined {
  return Object.hasOwn(OPERATIONS, name)
    ? OPERATIONS[name as keyof typeof OPERATIONS] as Operation
    : undefined;
}

/**
 * Verifies a submitted signature against the signer's current certificate
 * with Deno's WebCrypto, an implementation independent of the applet's.
 */
async function _verifySubmission(
  vault: OpCall["vault"],
  identity: string,
  args: { message: string; signature: string; alg: string },
): Promise<Record<string, unknown>> {
  const entry = await vault("directory.get", { identity });
  if (entry.status !== "active" || typeof entry.certificate !== "string") {
    throw new ApiError(409, "certificate_not_active", "the signer has no active certificate");
  }
  let message: Uint8Array, signature: Uint8Array;
  try {
    message = b64uDecode(args.message);
    signature = b64uDecode(args.signature);
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
