/**
 * The allow-list of vault operations (docs/architecture.md, "Vault operations"): for
 * each operation its request schema (zod, strict: unknown fields are refused), the
 * largest body accepted, which callers may use it, and its rate-limit class
 * (docs/rate-limits.md). The proxy enforces all of it; the vault re-parses with the
 * same schemas and keeps the rate-limit state in the database.
 *
 * @module
 */
import { z } from "zod";
import { ApiError } from "./errors.ts";
import { ConsentPhraseError, parseConsentPhrase } from "../protocol/mod.ts";
import {
  b64u,
  credentialIdSchema,
  freeText,
  identitySchema,
  keyRecordSchema,
  keyRecordV2Schema,
  MAX_PASSKEYS,
  passkeySlotSchema,
  registrationSchema,
  webauthnAuthenticationSchema,
  webauthnRegistrationSchema,
} from "./op_schemas.ts";

export * from "./op_schemas.ts";

/** Callers of the proxy, by HMAC key id. */
export type Caller = "web" | "admin";

/** The key id the proxy signs with towards the vault. */
export const PROXY_KEY_ID = "proxy";

/** A single-use nonce chosen by the web server (its N(s)): 16–64 bytes, base64url. */
export const userNonceSchema = b64u(64, 16);
const _opaqueMessage = b64u(512, 32);

/** A solved sign-in challenge (key-vault/pow.ts), sent past the per-identity window. */
export const powProofSchema = z.strictObject({
  challenge: z.string().max(120),
  solution: z.string().regex(/^[0-9]{1,20}$/),
});
const _spki = b64u(1024, 64);
const _signature = b64u(512, 64);
/**
 * A client-chosen key naming one logical operation across its retries (16–32 random
 * bytes, base64url): the vault answers a retry with the first attempt's outcome
 * (docs/faults.md).
 */
export const idempotencyKeySchema = b64u(32, 16);

const _schemas = {
  "register.start": z.strictObject({
    identity: identitySchema,
    registrationRequest: _opaqueMessage,
    /** The applet's session binding, echoed in the vault's signed answer (docs/trust-anchors.md). */
    binding: b64u(64, 32).optional(),
    /** For an identity that exists: a fresh re-authentication of it (re-registration). */
    reauthLoginId: b64u(16, 16).optional(),
    pow: powProofSchema.optional(),
  }),
  apply: z.strictObject({
    registration: registrationSchema,
    spki: _spki,
    keyRecord: keyRecordSchema,
    registrationRecord: _opaqueMessage,
    nonce: userNonceSchema,
    pop: _signature,
    idempotencyKey: idempotencyKeySchema.optional(),
  }),
  "application.get": z.strictObject({ identity: identitySchema }),
  consent: z.strictObject({
    registration: registrationSchema,
    phrase: z.string().max(64),
    idempotencyKey: idempotencyKeySchema.optional(),
  }),
  "login.start": z.strictObject({
    identity: identitySchema,
    startLoginRequest: _opaqueMessage,
    pow: powProofSchema.optional(),
  }),
  "login.finish": z.strictObject({
    loginId: b64u(16, 16),
    finishLoginRequest: _opaqueMessage,
    /** A login for re-authentication: on success the vault records a proof (`reauth_proofs`). */
    reauth: z.literal(true).optional(),
  }),
  /**
   * The applet opened the pending key record its sign-in released (docs/lifecycle.md,
   * "Pending key record"): `mac` is HMAC-SHA256 under that login's OPAQUE session key
   * (protocol/pending_record.ts).
   */
  "login.confirm": z.strictObject({
    identity: identitySchema,
    mac: b64u(32, 32),
  }),
  "registration.update": z.strictObject({
    registration: registrationSchema,
    keyRecord: keyRecordSchema,
    nonce: userNonceSchema,
    signature: _signature,
    /** As for `reregister`: a fresh re-authentication, refused at the vault without it. */
    reauthLoginId: b64u(16, 16).optional(),
  }),
  reregister: z.strictObject({
    identity: identitySchema,
    /**
     * The registration data the new record is sealed with; they become current with it
     * (a `registration.update` may still be pending, docs/lifecycle.md). Absent: unchanged.
     */
    registration: registrationSchema.optional(),
    spki: _spki,
    keyRecord: keyRecordSchema,
    registrationRecord: _opaqueMessage,
    nonce: userNonceSchema,
    signature: _signature,
    idempotencyKey: idempotencyKeySchema.optional(),
    /**
     * The `loginId` of a login finished with `reauth: true` for this identity (docs/
     * lifecycle.md, "Re-authentication"). Optional here so that a request without it
     * reaches the vault, which refuses it as `reauth_required` and audits the refusal.
     */
    reauthLoginId: b64u(16, 16).optional(),
    /**
     * Every passkey's slot re-wrapped to the new data key (docs/passkeys.md, "Re-registration"):
     * exactly the identity's passkeys, each with its enrolled salt and `pub`. Absent: none.
     */
    passkeySlots: z.array(passkeySlotSchema).max(MAX_PASSKEYS).optional(),
  }),
  revoke: z.strictObject({
    identity: identitySchema,
    reason: freeText(200).optional(),
    reauthLoginId: b64u(16, 16).optional(),
    nonce: userNonceSchema,
    signature: _signature,
    idempotencyKey: idempotencyKeySchema.optional(),
  }),
  "passkey.register.start": z.strictObject({
    identity: identitySchema,
    binding: b64u(64, 32),
    reauthLoginId: b64u(16, 16),
  }),
  "passkey.register.finish": z.strictObject({
    identity: identitySchema,
    challengeId: b64u(16, 16),
    name: freeText(64),
    response: webauthnRegistrationSchema,
    slot: passkeySlotSchema,
    reauthLoginId: b64u(16, 16).optional(),
    nonce: userNonceSchema,
    signature: _signature,
  }),
  "passkey.login.start": z.strictObject({
    identity: identitySchema.optional(),
    binding: b64u(64, 32),
    pow: powProofSchema.optional(),
  }),
  "passkey.login.finish": z.strictObject({
    challengeId: b64u(16, 16),
    response: webauthnAuthenticationSchema,
  }),
  "passkey.list": z.strictObject({ identity: identitySchema }),
  "passkey.remove": z.strictObject({
    identity: identitySchema,
    credentialId: credentialIdSchema,
    reauthLoginId: b64u(16, 16).optional(),
    nonce: userNonceSchema,
    signature: _signature,
  }),
  "keyrecord.upgrade": z.strictObject({
    identity: identitySchema,
    keyRecord: keyRecordV2Schema,
    nonce: userNonceSchema,
    signature: _signature,
  }),
  "admin.revoke": z.strictObject({
    identity: identitySchema,
    reason: freeText(200),
    operator: freeText(64).optional(),
  }),
  "directory.get": z.strictObject({ identity: identitySchema }),
  "directory.history": z.strictObject({ identity: identitySchema }),
  "ca.get": z.strictObject({}),
  "ca.issueServer": z.strictObject({ spki: _spki, purpose: z.literal("confidentiality") }),
  "crl.get": z.strictObject({}),
  /** RFC 3161: a token over a SHA-256 imprint (docs/documents.md); the nonce is echoed. */
  "tsa.timestamp": z.strictObject({ imprint: b64u(32, 32), nonce: b64u(16, 8).optional() }),
  "nonce.consume": z.strictObject({ nonce: userNonceSchema }),
  "admin.users": z.strictObject({}),
  "admin.pending": z.strictObject({}),
  "admin.letters": z.strictObject({}),
  "admin.letters.sent": z.strictObject({ identity: identitySchema }),
  "admin.consent.reset": z.strictObject({ identity: identitySchema }),
  "admin.audit.verify": z.strictObject({}),
  "admin.audit": z.strictObject({
    identity: identitySchema.optional(),
    limit: z.int().min(1).max(1_000).optional(),
  }),
} as const;

/** Every operation name. */
export type OpName = keyof typeof _schemas;

/** The parsed body of an operation. */
export type OpBody<N extends OpName> = z.infer<typeof _schemas[N]>;

/**
 * Rate-limit classes (docs/rate-limits.md). `perAddress`: requests per client address
 * per window. `perIdentity`: attempts per identity per window from addresses that
 * never succeeded for it. `backoff`: after `free` consecutive unsuccessful attempts
 * from one address for one identity, wait `baseMs·2^(n−free)`, at most `capMs`.
 */
export interface RateClass {
  perAddress?: { limit: number; windowMs: number };
  perIdentity?: { limit: number; windowMs: number };
  backoff?: { free: number; baseMs: number; capMs: number };
}

/** The rate-limit classes by name. */
export const RATE_CLASSES = {
  login: {
    perAddress: { limit: 120, windowMs: 60_000 },
    perIdentity: { limit: 60, windowMs: 600_000 },
    backoff: { free: 5, baseMs: 1_000, capMs: 300_000 },
  },
  consent: {
    perAddress: { limit: 20, windowMs: 60_000 },
    perIdentity: { limit: 20, windowMs: 3_600_000 },
    backoff: { free: 3, baseMs: 2_000, capMs: 300_000 },
  },
  // register.start evaluates the OPRF as login.start does: the sign-in limits, without
  // the backoff (there is no success to clear it; an existing identity needs a fresh
  // re-authentication anyway, key-vault/operations.ts `_registerStartAllowed`).
  register: {
    perAddress: { limit: 120, windowMs: 60_000 },
    perIdentity: { limit: 60, windowMs: 600_000 },
  },
  apply: {
    perAddress: { limit: 30, windowMs: 60_000 },
    perIdentity: { limit: 30, windowMs: 600_000 },
  },
  signed: {
    perAddress: { limit: 60, windowMs: 60_000 },
    perIdentity: { limit: 30, windowMs: 600_000 },
  },
  read: { perAddress: { limit: 1_200, windowMs: 60_000 } },
  // An RSA-3072 signature by the vault per request: the `signed` class's address limit.
  timestamp: { perAddress: { limit: 60, windowMs: 60_000 } },
  none: {},
} as const satisfies Record<string, RateClass>;

/** A rate-limit class name. */
export type RateClassName = keyof typeof RATE_CLASSES;

/** What the allow-list says about one operation. */
export interface OpSpec<N extends OpName = OpName> {
  name: N;
  schema: typeof _schemas[N];
  callers: readonly Caller[];
  maxBody: number;
  rateClass: RateClassName;
  /** The identity the request is about, if it names one (for per-identity limits and logs). */
  identityOf?: (body: OpBody<N>) => string;
  /** Extra checks with their own error codes, run after the schema. */
  precheck?: (body: OpBody<N>) => void;
}

const _KIB = 1024;

function _spec<N extends OpName>(
  name: N,
  callers: readonly Caller[],
  maxBody: number,
  rateClass: RateClassName,
  extra: Pick<OpSpec<N>, "identityOf" | "precheck"> = {},
): OpSpec<N> {
  return { name, schema: _schemas[name], callers, maxBody, rateClass, ...extra };
}

const _WEB = ["web"] as const;
const _ADMIN = ["admin"] as const;

/** The allow-list. */
export const OPS: { [N in OpName]: OpSpec<N> } = {
  // An OPRF evaluation, like login.start: the sign-in limits (docs/rate-limits.md).
  "register.start": _spec("register.start", _WEB, 4 * _KIB, "register", {
    identityOf: (b) => b.identity,
  }),
  apply: _spec("apply", _WEB, 32 * _KIB, "apply", {
    identityOf: (b) => b.registration.identity,
  }),
  "application.get": _spec("application.get", _WEB, 1 * _KIB, "read"),
  consent: _spec("consent", _WEB, 8 * _KIB, "consent", {
    identityOf: (b) => b.registration.identity,
    precheck: (b) => {
      try {
        parseConsentPhrase(b.phrase).fill(0);
      } catch (err) {
        if (err instanceof ConsentPhraseError) {
          throw new ApiError(
            400,
            err.code,
            err.message,
            err.group ? { group: err.group } : undefined,
          );
        }
        throw err;
      }
    },
  }),
  "login.start": _spec("login.start", _WEB, 4 * _KIB, "login", { identityOf: (b) => b.identity }),
  // Rate-limited through its login.start: a loginId is single use and short lived.
  "login.finish": _spec("login.finish", _WEB, 4 * _KIB, "none"),
  // After a sign-in, by the signed-in user; a MAC no one else can make (the `signed` limits).
  "login.confirm": _spec("login.confirm", _WEB, 1 * _KIB, "signed", {
    identityOf: (b) => b.identity,
  }),
  "registration.update": _spec("registration.update", _WEB, 32 * _KIB, "signed", {
    identityOf: (b) => b.registration.identity,
  }),
  reregister: _spec("reregister", _WEB, 32 * _KIB, "signed", { identityOf: (b) => b.identity }),
  revoke: _spec("revoke", _WEB, 4 * _KIB, "signed", { identityOf: (b) => b.identity }),
  // Passkeys (docs/passkeys.md): adding and removing one is a signed, re-authenticated
  // change; a passkey sign-in is a sign-in (the `login` class on its start, the finish
  // rate-limited through it as login.finish is).
  "passkey.register.start": _spec("passkey.register.start", _WEB, 4 * _KIB, "signed", {
    identityOf: (b) => b.identity,
  }),
  "passkey.register.finish": _spec("passkey.register.finish", _WEB, 24 * _KIB, "signed", {
    identityOf: (b) => b.identity,
  }),
  "passkey.login.start": _spec("passkey.login.start", _WEB, 4 * _KIB, "login", {
    identityOf: (b) => b.identity as string,
  }),
  "passkey.login.finish": _spec("passkey.login.finish", _WEB, 8 * _KIB, "none"),
  "passkey.list": _spec("passkey.list", _WEB, 1 * _KIB, "read"),
  "passkey.remove": _spec("passkey.remove", _WEB, 4 * _KIB, "signed", {
    identityOf: (b) => b.identity,
  }),
  "keyrecord.upgrade": _spec("keyrecord.upgrade", _WEB, 32 * _KIB, "signed", {
    identityOf: (b) => b.identity,
  }),
  "admin.revoke": _spec("admin.revoke", _ADMIN, 4 * _KIB, "none", {
    identityOf: (b) => b.identity,
  }),
  "directory.get": _spec("directory.get", _WEB, 1 * _KIB, "read"),
  "directory.history": _spec("directory.history", _WEB, 1 * _KIB, "read"),
  "ca.get": _spec("ca.get", _WEB, 1 * _KIB, "read"),
  // Admin only: a web server (possibly compromised) must not obtain certificates from
  // the CA for keys of its choosing (docs/trust-anchors.md). `deno task start` and
  // `deno task admin web-certificate` issue the web server's one with the admin key.
  "ca.issueServer": _spec("ca.issueServer", _ADMIN, 4 * _KIB, "none"),
  "crl.get": _spec("crl.get", _WEB, 1 * _KIB, "read"),
  // The web server asks only for signed-in users (server/routes/operations.ts `timestamp`).
  "tsa.timestamp": _spec("tsa.timestamp", _WEB, 1 * _KIB, "timestamp"),
  "nonce.consume": _spec("nonce.consume", _WEB, 1 * _KIB, "read"),
  "admin.users": _spec("admin.users", _ADMIN, 1 * _KIB, "none"),
  "admin.pending": _spec("admin.pending", _ADMIN, 1 * _KIB, "none"),
  "admin.letters": _spec("admin.letters", _ADMIN, 1 * _KIB, "none"),
  "admin.letters.sent": _spec("admin.letters.sent", _ADMIN, 1 * _KIB, "none"),
  "admin.consent.reset": _spec("admin.consent.reset", _ADMIN, 1 * _KIB, "none"),
  "admin.audit.verify": _spec("admin.audit.verify", _ADMIN, 1 * _KIB, "none"),
  "admin.audit": _spec("admin.audit", _ADMIN, 1 * _KIB, "none"),
};

/** The spec of an operation name, or undefined when it is not on the allow-list. */
export function opSpec(name: string): OpSpec | undefined {
  return Object.hasOwn(OPS, name) ? OPS[name as OpName] as unknown as OpSpec : undefined;
}

/** The largest body any operation accepts. */
export const MAX_BODY = Math.max(...Object.values(OPS).map((o) => o.maxBody));

/**
 * Parses a JSON body against an operation's schema and prechecks. Throws 400
 * `invalid_request` (with the failing paths) or the precheck's own code.
 */
export function parseOpBody<N extends OpName>(spec: OpSpec<N>, json: unknown): OpBody<N> {
  const result = spec.schema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((i) => ({
      path: i.path.join("."),
      message: i.message,
    }));
    throw new ApiError(400, "invalid_request", `${spec.name}: request does not match the schema`, {
      issues,
    });
  }
  const body = result.data as OpBody<N>;
  spec.precheck?.(body);
  return body;
}

/** Parses JSON bytes; throws 400 `bad_json`. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new ApiError(400, "bad_json", "body is not valid UTF-8 JSON");
  }
}
