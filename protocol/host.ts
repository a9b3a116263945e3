/**
 * End-to-end messages between the applet and a host application (DESIGN.md §2.8,
 * docs/host-bank.md): the part both ends share. The web server only routes what
 * this module seals; it never holds the host session key.
 *
 * - The host publishes two certificates: PUB(i,h), self-signed, its integrity key
 *   (signs the confidentiality certificate and every receipt), and PUB(c,h), its
 *   RSA-OAEP key, signed by PUB(i,h).
 * - Per message the applet draws a fresh host session key KH (32 random bytes) and
 *   sends it RSA-OAEP-SHA256 under PUB(c,h), label "roamsign/host/v1:" ‖ host.
 * - Direction keys: HKDF-SHA256(KH, salt = empty, info = "roamsign/host/v1 c2h " ‖ host
 *   or "… h2c …"), AES-256-GCM, non-extractable; AAD = "roamsign/host/v1" ‖ 0x00 ‖
 *   direction ‖ 0x00 ‖ host. Each key seals exactly one message.
 * - The c2h plaintext is {@link HostMessage}: the signed bytes (a
 *   {@link DebitInstruction} in its text form) and the user's signature. The h2c
 *   plaintext is {@link HostAnswer}, `{ receipt, signature[, code] }`: the receipt as
 *   canonical JSON text and the host's RSASSA-PKCS1-v1_5 SHA-256 signature over its
 *   UTF-8 bytes; `code: "duplicate_payment"` when the instruction repeats one the host
 *   executed before (same signer and idempotency key), and the receipt is that one's.
 * - What a user keeps is a `SignedReceipt` file (host_receipt.ts): the receipt text, the host's
 *   signature and its integrity certificate, checkable later against the host's pinned
 *   key fingerprint (`deno task verify -- --receipt FILE`, docs/bank-receipt.md).
 *
 * @module
 */
import { b64uDecode, b64uEncode } from "./base64url.ts";
import { concat, randomBytes, utf8 } from "./bytes.ts";
import { IDENTITY_PATTERN } from "./registration.ts";
import { isSignedAttributesLike } from "./signed_attributes.ts";

/** Protocol name, in every label, info string and AAD. */
export const HOST_PROTOCOL = "roamsign/host/v1";
/** Length of the host session key KH. */
export const HOST_KEY_BYTES = 32;
const _IV_BYTES = 12;

/** What `GET /api/host` answers: the host's name, certificates (PEM) and currency. */
export interface HostKeys {
  name: string;
  integrityCert: string;
  confidentialityCert: string;
  /** The one currency the host keeps accounts in (ISO 4217); instructions must use it. */
  currency: string;
}

/** The sealed request the web server routes: base64url fields. */
export interface HostEnvelope {
  /** KH under PUB(c,h). */
  key: string;
  iv: string;
  ct: string;
}

/** The host's sealed answer. */
export interface HostReply {
  iv: string;
  ct: string;
}

/** The h2c plaintext: a signed receipt, and why it is given. */
export interface HostAnswer {
  /** The receipt as signed: {@link receiptText}. */
  receipt: string;
  /** The host's RSASSA-PKCS1-v1_5 SHA-256 signature over the receipt's UTF-8 bytes, base64url. */
  signature: string;
  /**
   * Absent: the instruction was executed now. `duplicate_payment`: it repeats one executed
   * before (same signer, same idempotency key, same payment); nothing was paid again and
   * the receipt is the original one.
   */
  code?: "duplicate_payment";
}

/** The c2h plaintext. */
export interface HostMessage {
  v: 1;
  /** The exact bytes the user signed (base64url). */
  message: string;
  signature: string;
  alg: "RSASSA-PKCS1-v1_5-SHA256";
}

/** A malformed instruction, receipt or envelope; `code` is stable. */
export class HostProtocolError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "HostProtocolError";
    this.code = code;
  }
}

/** A host's name: what labels, AAD and instructions carry. */
export const HOST_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** The RSA-OAEP label KH is wrapped with. */
export function hostKeyLabel(host: string): Uint8Array {
  return utf8(`${HOST_PROTOCOL}:${host}`);
}

/** The two direction keys of one message. */
export interface HostKeysAes {
  c2h: CryptoKey;
  h2c: CryptoKey;
}

/** Derives the direction keys from KH (the caller wipes KH afterwards). */
export async function deriveHostKeys(kh: Uint8Array, host: string): Promise<HostKeysAes> {
  if (kh.length !== HOST_KEY_BYTES) {
    throw new HostProtocolError("bad_envelope", `host: KH is ${kh.length} bytes, expected 32`);
  }
  const base = await crypto.subtle.importKey("raw", kh as BufferSource, "HKDF", false, [
    "deriveKey",
  ]);
  const derive = (dir: "c2h" | "h2c") =>
    crypto.subtle.deriveKey(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: new Uint8Array(0),
        info: utf8(`${HOST_PROTOCOL} ${dir} ${host}`) as BufferSource,
      },
      base,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
  return { c2h: await derive("c2h"), h2c: await derive("h2c") };
}

function _aad(dir: "c2h" | "h2c", host: string): Uint8Array {
  return concat(
    utf8(HOST_PROTOCOL),
    new Uint8Array([0]),
    utf8(dir),
    new Uint8Array([0]),
    utf8(host),
  );
}

/** Seals `plaintext` in one direction. */
export async function sealHost(
  key: CryptoKey,
  dir: "c2h" | "h2c",
  host: string,
  plaintext: Uint8Array,
): Promise<{ iv: string; ct: string }> {
  const iv = randomBytes(_IV_BYTES);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: iv as BufferSource, additionalData: _aad(dir, host) as BufferSource },
      key,
      plaintext as BufferSource,
    ),
  );
  return { iv: b64uEncode(iv), ct: b64uEncode(ct) };
}

/** Opens a sealed body; throws `bad_envelope` if it does not authenticate. */
export async function openHost(
  key: CryptoKey,
  dir: "c2h" | "h2c",
  host: string,
  sealed: { iv: string; ct: string },
): Promise<Uint8Array> {
  try {
    const iv = b64uDecode(sealed.iv);
    if (iv.length !== _IV_BYTES) throw new Error("iv length");
    return new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: iv as BufferSource,
          additionalData: _aad(dir, host) as BufferSource,
        },
        key,
        b64uDecode(sealed.ct) as BufferSource,
      ),
    );
  } catch {
    throw new HostProtocolError("bad_envelope", "host: the sealed message does not authenticate");
  }
}

// ---- debit instruction ----------------------------------------------------------------

/** A debit instruction: what the user signs for the bank. */
export interface DebitInstruction {
  /** The host it is meant for (a signature for one host is refused by another). */
  host: string;
  /** Random UUID; the host refuses a second message with the same id. */
  messageId: string;
  /**
   * One per payment form (16–32 random bytes, base64url): every submission of the same
   * payment carries it, so the host executes the payment once and answers a repeat with
   * the original receipt (`duplicate_payment`). Signed, so nobody can move it to another
   * payment.
   */
  idempotencyKey: string;
  /** The signer's identity: the account to debit. */
  from: string;
  /** The payee's account, free text (1–64 characters). */
  to: string;
  /** Decimal with two places, > 0, e.g. `125.00`. */
  amount: string;
  /** ISO 4217 code, e.g. `GBP`. */
  currency: string;
  /** 0–140 characters. */
  reference: string;
  /** ISO 8601 time the applet made it. */
  date: string;
}

/** Upper bounds on the typed fields of an instruction, in characters (code points). */
export const INSTRUCTION_LIMITS = { to: 64, reference: 140 } as const;

const _HEADER = "roamsign debit instruction v2";
const _FIELDS = [
  "host",
  "message-id",
  "idempotency-key",
  "from",
  "to",
  "amount",
  "reference",
  "date",
] as const;
const _UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const _AMOUNT = /^(0|[1-9][0-9]{0,8})\.[0-9]{2}$/;
/** An ISO 4217 currency code as the host and the instruction write it. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
const _CURRENCY = CURRENCY_PATTERN;
/** An idempotency key: 16–32 bytes, base64url without padding. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_-]{22,43}$/;
const _DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
// What the user sees is what is signed: no control or format characters (bidi overrides,
// zero-width), no line breaks, no leading or trailing space.
const _PLAIN = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;

function _text(what: string, v: string, min: number, max: number): string {
  const n = [...v].length;
  if (n < min || n > max || !_PLAIN.test(v) || v !== v.trim() || v.normalize("NFC") !== v) {
    throw new HostProtocolError(
      "bad_instruction",
      `instruction: ${what} must be ${min}–${max} plain characters`,
    );
  }
  return v;
}

/** Amount in minor units (pence), from `125.00`. */
export function amountMinor(amount: string): number {
  if (!_AMOUNT.test(amount)) {
    throw new HostProtocolError("bad_instruction", "instruction: amount must look like 125.00");
  }
  return Number(amount.replace(".", ""));
}

/** `12345` → `123.45`. */
export function formatMinor(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** Checks every field of an instruction; returns it unchanged or throws `bad_instruction`. */
export function checkDebitInstruction(d: DebitInstruction): DebitInstruction {
  if (!HOST_NAME_PATTERN.test(d.host)) {
    throw new HostProtocolError("bad_instruction", "instruction: bad host name");
  }
  if (!_UUID.test(d.messageId)) {
    throw new HostProtocolError("bad_instruction", "instruction: message id must be a UUID v4");
  }
  if (!IDEMPOTENCY_KEY_PATTERN.test(d.idempotencyKey)) {
    throw new HostProtocolError(
      "bad_instruction",
      "instruction: idempotency key must be 16–32 bytes in base64url",
    );
  }
  if (!IDENTITY_PATTERN.test(d.from)) {
    throw new HostProtocolError("bad_instruction", "instruction: from must be an identity");
  }
  _text("the payee account", d.to, 1, INSTRUCTION_LIMITS.to);
  if (amountMinor(d.amount) <= 0) {
    throw new HostProtocolError("bad_instruction", "instruction: amount must be above 0.00");
  }
  if (!_CURRENCY.test(d.currency)) {
    throw new HostProtocolError("bad_instruction", "instruction: currency must be 3 letters");
  }
  _text("the reference", d.reference, 0, INSTRUCTION_LIMITS.reference);
  if (!_DATE.test(d.date) || Number.isNaN(Date.parse(d.date))) {
    throw new HostProtocolError("bad_instruction", "instruction: date must be ISO 8601 UTC");
  }
  return d;
}

/**
 * The text form the user signs: a header line, then `key: value` lines in a fixed
 * order, each ending in "\n". Readable as it is, and what `openssl dgst` checks.
 */
export function formatDebitInstruction(d: DebitInstruction): string {
  checkDebitInstruction(d);
  return [
    _HEADER,
    `host: ${d.host}`,
    `message-id: ${d.messageId}`,
    `idempotency-key: ${d.idempotencyKey}`,
    `from: ${d.from}`,
    `to: ${d.to}`,
    `amount: ${d.amount} ${d.currency}`,
    `reference: ${d.reference}`,
    `date: ${d.date}`,
    "",
  ].join("\n");
}

/** Parses the text form strictly (exact header, order and line endings). */
export function parseDebitInstruction(text: string): DebitInstruction {
  const lines = text.split("\n");
  if (lines.length !== _FIELDS.length + 2 || lines[0] !== _HEADER || lines.at(-1) !== "") {
    throw new HostProtocolError("bad_instruction", "not a roamsign debit instruction v2");
  }
  const values: Record<string, string> = {};
  _FIELDS.forEach((name, i) => {
    const line = lines[i + 1];
    const prefix = `${name}: `;
    if (line.startsWith(prefix)) values[name] = line.slice(prefix.length);
    else {throw new HostProtocolError(
        "bad_instruction",
        `instruction: line ${i + 2} must be ${name}`,
      );}
  });
  const m = /^(\S+) (\S+)$/.exec(values.amount);
  if (!m) throw new HostProtocolError("bad_instruction", "instruction: amount is `125.00 GBP`");
  const d = checkDebitInstruction({
    host: values.host,
    messageId: values["message-id"],
    idempotencyKey: values["idempotency-key"],
    from: values.from,
    to: values.to,
    amount: m[1],
    currency: m[2],
    reference: values.reference,
    date: values.date,
  });
  if (formatDebitInstruction(d) !== text) {
    throw new HostProtocolError("bad_instruction", "instruction: not in canonical form");
  }
  return d;
}

// ---- domain separation ------------------------------------------------------------------

/**
 * How every roamsign protocol signature by a user's key begins: a debit instruction
 * (`roamsign debit instruction v2`) and a signed request to the vault
 * (`["roamsign/request/v1", …]`, protocol/user_request.ts). Any structure signed with the
 * user's key in future must begin with one of them too.
 */
export const RESERVED_MESSAGE_PREFIXES = ["roamsign", '["roamsign'] as const;

/**
 * True when free-form bytes begin like a protocol structure (issue 15 item 7): the applet
 * refuses to sign them as a message, so "Sign message" can never make a signature that
 * the bank or the vault would accept for an instruction or a request. Exact bytes, as the
 * verifiers compare exact bytes.
 */
export function isReservedMessage(message: Uint8Array): boolean {
  // A CMS signed-attributes SET is the third kind of bytes the key signs
  // (protocol/signed_attributes.ts): a message may not be one either.
  if (isSignedAttributesLike(message)) return true;
  return RESERVED_MESSAGE_PREFIXES.some((p) => {
    const b = new TextEncoder().encode(p);
    return message.length >= b.length && b.every((x, i) => message[i] === x);
  });
}

/**
 * The header with which the web server tells the host which identity is signed in on the
 * session that sent a message; the host acts only when it is the instruction's signer.
 */
export const SIGNED_IN_HEADER = "x-roamsign-signed-in";
