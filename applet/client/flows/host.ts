/**
 * The host application, end to end (DESIGN.md §2.8, docs/host-bank.md): fetch and check
 * its keys, send it a signed, sealed instruction and check its receipt — signed by the
 * host's pinned integrity key, for this payment — before anyone sees it. A repeat of a
 * payment the host executed before comes back as that payment's original receipt
 * (`duplicate_payment`); payments.ts keeps the form's idempotency keys.
 *
 * @module
 */
import {
  encryptOaep,
  importPublicKeySpki,
  signPkcs1v15,
  verifyPkcs1v15,
} from "../../../wasm-crypto/mod.ts";
import {
  type Anchors,
  b64uDecode,
  b64uEncode,
  CURRENCY_PATTERN,
  type DebitInstruction,
  deriveHostKeys,
  formatDebitInstruction,
  fromUtf8,
  HOST_KEY_BYTES,
  HOST_NAME_PATTERN,
  type HostAnswer,
  hostKeyLabel,
  type HostKeys,
  type HostMessage,
  type HostReply,
  OID_SHA256_WITH_RSA,
  openHost,
  parseCertificate,
  parseReceipt,
  pemDecode,
  randomBytes,
  type Receipt,
  sealHost,
  sha256,
  signedReceiptFile,
  toHex,
  utf8,
  wipe,
} from "../../../protocol/mod.ts";
import { RpcError, type Session } from "../session.ts";
import { FlowError } from "./common.ts";
import type { SignedIn } from "./sign_in.ts";

// ---- host application, end to end (DESIGN.md §2.8, docs/host-bank.md) --------------------

/** The host's keys after {@link checkHostKeys}. */
export interface CheckedHostKeys {
  name: string;
  /** PUB(c,h) as SPKI DER. */
  confidentialitySpki: Uint8Array;
  /** PUB(i,h) as SPKI DER. */
  integritySpki: Uint8Array;
  /** Hex SHA-256 of PUB(i,h)'s SPKI: what a user can compare with the bank's. */
  fingerprint: string;
  /** PUB(i,h)'s certificate (PEM), for the receipt file a user keeps. */
  integrityCert: string;
  /** The one currency the host keeps accounts in: every instruction uses it. */
  currency: string;
}

/** Fetches the host's certificates from the web server (`GET /api/host`). */
export async function fetchHostKeys(
  baseUrl = "",
  f: typeof fetch = fetch.bind(globalThis),
): Promise<HostKeys> {
  const res = await f(`${baseUrl}/api/host`, { cache: "no-store" });
  const body = await res.json().catch(() => null) as
    | (HostKeys & { error?: { code?: string; message?: string } })
    | null;
  if (!res.ok || !body) {
    throw new RpcError(
      body?.error?.code ?? "host_unavailable",
      body?.error?.message ?? "The bank is not reachable.",
      res.status,
    );
  }
  return body;
}

/**
 * Checks the host's certificates: PUB(i,h) is the key pinned for this host name in the
 * anchors (SHA-256 of its SPKI), is self-signed and signed PUB(c,h)
 * (sha256WithRSAEncryption, verified by wasm-crypto). Any other key is refused, so the
 * web server that relays them cannot put itself inside the end-to-end channel.
 */
export async function checkHostKeys(keys: HostKeys, anchors: Anchors): Promise<CheckedHostKeys> {
  let fingerprint: string;
  try {
    if (!HOST_NAME_PATTERN.test(keys.name)) throw new Error("name");
    if (!CURRENCY_PATTERN.test(keys.currency)) throw new Error("currency");
    const integrity = parseCertificate(pemDecode(keys.integrityCert));
    const conf = parseCertificate(pemDecode(keys.confidentialityCert));
    const pub = importPublicKeySpki(integrity.spki);
    for (const c of [integrity, conf]) {
      if (c.signatureAlgorithm !== OID_SHA256_WITH_RSA) throw new Error("algorithm");
      if (!verifyPkcs1v15(pub, "SHA-256", c.tbs, c.signature)) throw new Error("signature");
    }
    importPublicKeySpki(conf.spki);
    fingerprint = toHex(await sha256(integrity.spki));
    if (Object.hasOwn(anchors.hosts, keys.name) && anchors.hosts[keys.name] === fingerprint) {
      return {
        name: keys.name,
        confidentialitySpki: conf.spki,
        integritySpki: integrity.spki,
        fingerprint,
        integrityCert: keys.integrityCert,
        currency: keys.currency,
      };
    }
  } catch {
    throw new FlowError(
      "bad_host_certificate",
      "The bank's certificates (or its currency) are malformed, or not signed by its " +
        "integrity key.",
    );
  }
  throw new FlowError(
    "untrusted_host",
    "The bank's key is not the one this applet was built to trust; nothing was sent.",
  );
}

/**
 * The payment a user asks for, with the idempotency key of its form (payments.ts); the
 * applet adds host, currency (the host's), message id, signer and date.
 */
export type DebitRequest = Pick<DebitInstruction, "to" | "amount" | "reference" | "idempotencyKey">;

/** What {@link sendToHost} returns. */
export interface HostResult {
  /** The instruction signed and sent now. */
  instruction: DebitInstruction;
  /** The exact bytes signed. */
  message: Uint8Array;
  signature: Uint8Array;
  /**
   * The receipt, its signature checked with the pinned PUB(i,h). For a `duplicate_payment`
   * it is the first payment's: its message id and hash are that instruction's, not this one.
   */
  receipt: Receipt;
  /** The receipt as signed (canonical JSON) and the host's signature over it. */
  receiptText: string;
  receiptSignature: Uint8Array;
  /** The file a user keeps: receipt, signature and certificate (docs/bank-receipt.md). */
  signedReceipt: string;
  hostFingerprint: string;
  /** `duplicate_payment`: nothing was paid now; the host had executed this payment before. */
  code?: "duplicate_payment";
}

/**
 * Signs a debit instruction with SKu and sends it end to end to the host: a fresh
 * KH under PUB(c,h) (wasm-crypto RSA-OAEP), the signed instruction under a key
 * derived from KH. The web server routes the envelope; the host's answer is opened
 * with KH's other direction key and its signature checked with PUB(i,h).
 */
export async function sendToHost(
  session: Session,
  user: SignedIn,
  host: CheckedHostKeys,
  request: DebitRequest,
): Promise<HostResult> {
  const instruction: DebitInstruction = {
    host: host.name,
    messageId: crypto.randomUUID(),
    idempotencyKey: request.idempotencyKey,
    from: user.identity,
    to: request.to,
    amount: request.amount,
    currency: host.currency,
    reference: request.reference,
    date: new Date().toISOString(),
  };
  const message = utf8(formatDebitInstruction(instruction));
  const signature = signPkcs1v15(user.key, "SHA-256", message);
  const inner: HostMessage = {
    v: 1,
    message: b64uEncode(message),
    signature: b64uEncode(signature),
    alg: "RSASSA-PKCS1-v1_5-SHA256",
  };
  const { envelope, keys } = await _sealForHost(host, inner);
  const reply = await session.call<HostReply>("host.submit", envelope);
  const answer = await _openReply(keys, host, reply);
  const receipt = await _checkReceipt(answer, host, instruction, message);
  return {
    instruction,
    message,
    signature,
    receipt,
    receiptText: answer.receipt,
    receiptSignature: answer.signature,
    signedReceipt: signedReceiptFile({
      receipt: answer.receipt,
      signature: answer.signature,
      certificate: host.integrityCert,
      spkiSha256: host.fingerprint,
    }),
    hostFingerprint: host.fingerprint,
    ...(answer.code ? { code: answer.code } : {}),
  };
}

/** A fresh KH wrapped under PUB(c,h) and the message sealed under its c2h key; KH is wiped. */
async function _sealForHost(host: CheckedHostKeys, inner: HostMessage) {
  const kh = randomBytes(HOST_KEY_BYTES);
  let keys;
  let wrapped: Uint8Array;
  try {
    wrapped = encryptOaep(
      importPublicKeySpki(host.confidentialitySpki),
      "SHA-256",
      kh,
      hostKeyLabel(host.name),
    );
    keys = await deriveHostKeys(kh, host.name);
  } finally {
    wipe(kh);
  }
  let plaintext: Uint8Array | null = null;
  let sealed;
  try {
    plaintext = utf8(JSON.stringify(inner));
    sealed = await sealHost(keys.c2h, "c2h", host.name, plaintext);
  } finally {
    wipe(plaintext);
  }
  return { envelope: { key: b64uEncode(wrapped), iv: sealed.iv, ct: sealed.ct }, keys };
}

/** Opens the host's sealed answer with the h2c key: the receipt text, its signature, the code. */
async function _openReply(
  keys: Awaited<ReturnType<typeof deriveHostKeys>>,
  host: CheckedHostKeys,
  reply: HostReply,
): Promise<{ receipt: string; signature: Uint8Array; code?: "duplicate_payment" }> {
  const opened = await openHost(keys.h2c, "h2c", host.name, reply);
  let answer: Partial<Record<keyof HostAnswer, unknown>>;
  try {
    answer = JSON.parse(fromUtf8(opened));
  } finally {
    wipe(opened);
  }
  if (
    typeof answer.receipt !== "string" || typeof answer.signature !== "string" ||
    (answer.code !== undefined && answer.code !== "duplicate_payment")
  ) {
    throw new FlowError("bad_receipt", "The bank's answer is malformed.");
  }
  return {
    receipt: answer.receipt,
    signature: b64uDecode(answer.signature),
    ...(answer.code ? { code: answer.code } : {}),
  };
}

/**
 * The receipt must be signed by the pinned PUB(i,h) and be for this signer, host and
 * idempotency key; a fresh one for this message id and the SHA-256 of the bytes just
 * signed, a `duplicate_payment` one for the same payment (payee, amount, currency,
 * reference), since it is the receipt of the instruction first sent.
 */
async function _checkReceipt(
  answer: { receipt: string; signature: Uint8Array; code?: "duplicate_payment" },
  host: CheckedHostKeys,
  instruction: DebitInstruction,
  message: Uint8Array,
): Promise<Receipt> {
  const pub = importPublicKeySpki(host.integritySpki);
  if (!verifyPkcs1v15(pub, "SHA-256", utf8(answer.receipt), answer.signature)) {
    throw new FlowError("bad_receipt", "The receipt is not signed by the bank's integrity key.");
  }
  const receipt = parseReceipt(answer.receipt);
  const ours = receipt.identity === instruction.from && receipt.host === host.name &&
    receipt.idempotencyKey === instruction.idempotencyKey;
  const d = receipt.debit;
  const same = answer.code === "duplicate_payment"
    ? d.to === instruction.to && d.amount === instruction.amount &&
      d.currency === instruction.currency && d.reference === instruction.reference
    : receipt.messageId === instruction.messageId &&
      receipt.messageSha256 === toHex(await sha256(message));
  if (!ours || !same) throw new FlowError("bad_receipt", "The receipt is for another message.");
  return receipt;
}
