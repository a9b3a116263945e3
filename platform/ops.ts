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
import { CONTROL_CHARACTERS, IDENTITY_PATTERN, REGISTRATION_LIMITS } from "../protocol/mod.ts";
import { ApiError } from "./errors.ts";
import { ConsentPhraseError, parseConsentPhrase } from "../protocol/mod.ts";

/** Callers of the proxy, by HMAC key id. */
export type Caller = "web" | "admin";

/** The key id the proxy signs with towards the vault. */
export const PROXY_KEY_ID = "proxy";

/**
 * Canonical unpadded base64url, exactly what `b64uDecode` accepts: no impossible length
 * (4n + 1) and no stray bits in the last character. A looser pattern let strings
 * through that the vault then failed to decode (a 500, found by tests/integration/
 * fuzz_test.ts: `apply` with `registrationRecord` = 65 × "A").
 */
export const B64U_PATTERN =
  /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$/;
const _B64U = B64U_PATTERN;

/** base64url text of at most `maxBytes` bytes (and at least `minBytes`). */
export function b64u(maxBytes: number, minBytes = 1) {
  return z.string()
    .min(Math.ceil((minBytes * 4) / 3))
    .max(Math.ceil((maxBytes * 4) / 3))
    .regex(_B64U, "expected base64url");
}

/**
 * Free text that is stored (a revocation reason, an operator's name): 1 to `max`
 * characters, well-formed, no control characters (PostgreSQL text cannot hold NUL: a
 * NUL here was a 500, found by tests/integration/fuzz_test.ts's follow-up probe).
 */
export function freeText(max: number) {
  return z.string().min(1).max(max)
    .refine((s) => s.isWellFormed() && !CONTROL_CHARACTERS.test(s), "control character");
}

/** An identity (the pattern of protocol/registration.ts). */
export const identitySchema = z.string().max(64).regex(IDENTITY_PATTERN, "bad identity");

/** Registration data as sent; the vault NFC-normalises and re-checks it. */
export const registrationSchema = z.strictObject({
  identity: identitySchema,
  fullName: z.string().min(1).max(REGISTRATION_LIMITS.fullName * 2),
  accountNumber: z.string().min(1).max(REGISTRATION_LIMITS.accountNumber * 2),
  address: z.string().min(1).max(REGISTRATION_LIMITS.address * 2),
});

/** argon2id parameters the applet used for OPAQUE's key stretching (memory in KiB). */
export const ksfParamsSchema = z.strictObject({
  memory: z.int().min(8).max(4_194_304),
  iterations: z.int().min(1).max(64),
  parallelism: z.int().min(1).max(64),
});

/** Key record v1 (DESIGN.md §3); `spkiSha256`, `iv`, `ct` are base64url. */
export const keyRecordSchema = z.strictObject({
  v: z.literal(1),
  identity: identitySchema,
  spkiSha256: b64u(32, 32),
  bits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]),
  sigAlg: z.enum(["RSASSA-PKCS1-v1_5-SHA256", "RSA-PSS-SHA256"]),
  kdf: z.strictObject({
    name: z.literal("opaque-export-key"),
    ksf: z.literal("argon2id"),
    params: ksfParamsSchema,
  }),
  iv: b64u(12, 12),
  ct: b64u(4096, 1),
});

/** A key record (DESIGN.md §3). */
export type KeyRecord = z.infer<typeof keyRecordSchema>;

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
  }),
  revoke: z.strictObject({
    identity: identitySchema,
    reason: freeText(200).optional(),
    reauthLoginId: b64u(16, 16).optional(),
    nonce: userNonceSchema,
    signature: _signature,
    idempotencyKey: idempotencyKeySchema.optional(),
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
