/**
 * The building blocks of the operation schemas (platform/ops.ts): canonical base64url,
 * free text, identities, registration data, the Argon2id parameters, key records v1 and
 * v2 (DESIGN.md §3, docs/passkeys.md) and WebAuthn answers. Re-exported by ops.ts.
 *
 * @module
 */
import { z } from "zod";
import { CONTROL_CHARACTERS, IDENTITY_PATTERN, REGISTRATION_LIMITS } from "../protocol/mod.ts";

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
export const keyRecordV1Schema = z.strictObject({
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

const _kdfSchema = z.strictObject({
  name: z.literal("opaque-export-key"),
  ksf: z.literal("argon2id"),
  params: ksfParamsSchema,
});

/** At most this many passkeys per identity (docs/passkeys.md). */
export const MAX_PASSKEYS = 10;

/** A passkey's slot of a key record v2 (protocol/passkey_slot.ts): DK wrapped to its X25519 key. */
export const passkeySlotSchema = z.strictObject({
  kind: z.literal("passkey"),
  credentialId: b64u(1023, 16),
  salt: b64u(32, 32),
  pub: b64u(32, 32),
  epk: b64u(32, 32),
  iv: b64u(12, 12),
  wrapped: b64u(48, 48),
  tag: b64u(32, 32),
});

/** Key record v2 as a client sends it: only the pass-phrase slot (docs/passkeys.md). */
export const keyRecordV2Schema = z.strictObject({
  v: z.literal(2),
  identity: identitySchema,
  spkiSha256: b64u(32, 32),
  bits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]),
  sigAlg: z.enum(["RSASSA-PKCS1-v1_5-SHA256", "RSA-PSS-SHA256"]),
  iv: b64u(12, 12),
  ct: b64u(4096, 1),
  slots: z.tuple([
    z.strictObject({
      kind: z.literal("passphrase"),
      kdf: _kdfSchema,
      iv: b64u(12, 12),
      wrapped: b64u(48, 48),
    }),
  ]),
});

/** A key record v1 or v2 (DESIGN.md §3). */
export const keyRecordSchema = z.union([keyRecordV1Schema, keyRecordV2Schema]);

/** A key record v1 (DESIGN.md §3). */
export type KeyRecordV1 = z.infer<typeof keyRecordV1Schema>;

/** A key record (DESIGN.md §3), v1 or v2 as stored. */
export type KeyRecord = z.infer<typeof keyRecordSchema>;

/** The pass phrase's stretching parameters of a record, whatever its version. */
export function ksfParamsOf(record: KeyRecord): z.infer<typeof ksfParamsSchema> {
  return record.v === 1 ? record.kdf.params : record.slots[0].kdf.params;
}

/** A WebAuthn credential id, base64url (16 to 1023 bytes). */
export const credentialIdSchema = b64u(1023, 16);
/** A WebAuthn answer as JSON; empty `clientExtensionResults`: the PRF output stays in the applet. */
const _webauthnCommon = {
  id: credentialIdSchema,
  rawId: credentialIdSchema,
  type: z.literal("public-key"),
  clientExtensionResults: z.strictObject({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
};
export const webauthnRegistrationSchema = z.strictObject({
  ..._webauthnCommon,
  response: z.strictObject({
    clientDataJSON: b64u(2048, 16),
    attestationObject: b64u(12_288, 37),
    transports: z.array(z.enum(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]))
      .max(8).optional(),
  }),
});
export const webauthnAuthenticationSchema = z.strictObject({
  ..._webauthnCommon,
  response: z.strictObject({
    clientDataJSON: b64u(2048, 16),
    authenticatorData: b64u(2048, 37),
    signature: b64u(1024, 8),
    userHandle: b64u(64, 1).optional(),
  }),
});
