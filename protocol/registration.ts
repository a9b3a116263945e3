/**
 * Registration data and its canonical bytes (docs/architecture.md): the one
 * definition that the applet, the vault and every test hash.
 *
 * @module
 */

/** What a user registers with. Every field is required and non-empty. */
export interface Registration {
  identity: string;
  fullName: string;
  accountNumber: string;
  address: string;
}

/** Identity: lower-case letters and digits, then `.`, `_`, `-` allowed; 3–64 characters. */
export const IDENTITY_PATTERN = /^[a-z0-9][a-z0-9._-]{2,63}$/;

/** C0 and C1 control characters and DEL: refused in registration data and free text. */
export const CONTROL_CHARACTERS = /\p{Cc}/u;

/**
 * Upper bounds on each field, in UTF-16 code units after normalisation (the identity's is
 * also {@link IDENTITY_PATTERN}'s). The applet shows them (`maxlength`, counters) and the
 * web server's schema enforces them (server/routes/operations.ts).
 */
export const REGISTRATION_LIMITS = {
  identity: 64,
  fullName: 200,
  accountNumber: 64,
  address: 500,
} as const;

/** Thrown for registration data that breaks the rules above. */
export class RegistrationError extends Error {
  readonly code = "bad_registration";
  /** The field that broke a rule, when one did. */
  readonly field?: keyof Registration;
  constructor(message: string, field?: keyof Registration) {
    super(message);
    this.name = "RegistrationError";
    this.field = field;
  }
}

/** Checks and NFC-normalises registration data; throws {@link RegistrationError}. */
export function normalizeRegistration(input: unknown): Registration {
  if (typeof input !== "object" || input === null) {
    throw new RegistrationError("registration: expected an object");
  }
  const r = input as Record<string, unknown>;
  const field = (name: keyof Registration, max: number): string => {
    const v = r[name];
    const bad = (why: string) => new RegistrationError(`registration: ${name} ${why}`, name);
    if (typeof v !== "string") throw bad("must be text");
    // Control characters (NUL among them, which PostgreSQL text cannot even store) and
    // unpaired surrogates are never part of a name, account number or postal address.
    if (!v.isWellFormed() || CONTROL_CHARACTERS.test(v)) {
      throw bad("contains a control character");
    }
    const s = v.normalize("NFC").trim();
    if (s.length === 0) throw bad("is empty");
    if (s.length > max) throw bad(`longer than ${max}`);
    return s;
  };
  const identity = field("identity", REGISTRATION_LIMITS.identity);
  if (!IDENTITY_PATTERN.test(identity)) {
    throw new RegistrationError(
      "registration: identity must be 3-64 of a-z 0-9 . _ - and start with a letter or digit",
      "identity",
    );
  }
  return {
    identity,
    fullName: field("fullName", REGISTRATION_LIMITS.fullName),
    accountNumber: field("accountNumber", REGISTRATION_LIMITS.accountNumber),
    address: field("address", REGISTRATION_LIMITS.address),
  };
}

/** Canonical bytes: UTF-8 of `["roamsign/registration/v1", identity, fullName, accountNumber, address]`. */
export function canonicalRegistration(input: Registration): Uint8Array {
  const r = normalizeRegistration(input);
  return new TextEncoder().encode(
    JSON.stringify([
      "roamsign/registration/v1",
      r.identity,
      r.fullName,
      r.accountNumber,
      r.address,
    ]),
  );
}
