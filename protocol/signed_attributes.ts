/**
 * Domain separation for document signatures (docs/documents.md, "Domain separation").
 * The signing worker signs three kinds of bytes with a user's key: protocol structures
 * (`roamsign…`, `["roamsign…`: debit instructions, signed requests), free-form messages,
 * and — for documents — the DER SET of a CMS SignerInfo's signed attributes (RFC 5652
 * §5.4). No bytes may be acceptable as two of them:
 *
 * - {@link checkSignedAttributes}: the worker signs for a document only a DER SET (first
 *   byte 0x31, never `r` or `[`, so never a protocol structure) of exactly the attributes
 *   roamsign writes — content-type id-data, message-digest (32 bytes), ESS
 *   signing-certificate-v2 naming the signed-in user's certificate, and optionally
 *   signing-time — each once, in DER order, nothing else. The worker is given these bytes,
 *   never a bare hash, so it sees what it signs.
 * - {@link isSignedAttributesLike}: free-form "Sign message" refuses bytes that are one DER
 *   SET of attributes (`isReservedMessage` in host.ts), so a message signature can never
 *   be lifted into a CMS SignerInfo (Mallory cannot get Alice to sign the attributes of
 *   his contract as a "message"). Text never is such a SET: an attribute's OID tag is the
 *   control byte 0x06.
 *
 * Not constant time (the bytes are public: they are hashes and a certificate's hash).
 *
 * @module
 */
import { sha256 } from "./bytes.ts";
import {
  derChildrenVarTime,
  type DerElement,
  DerError,
  derOidVarTime,
  readDerVarTime,
} from "./der.ts";

/** The largest signed-attributes SET the worker signs (roamsign's are ~300 bytes). */
export const SIGNED_ATTRIBUTES_MAX_BYTES = 2048;

const _OID = {
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  data: "1.2.840.113549.1.7.1",
} as const;

/** Signed attributes that are not the ones roamsign signs; `code` is stable. */
export class SignedAttributesError extends Error {
  readonly code = "bad_signed_attributes";
  constructor(message: string) {
    super(`signed attributes: ${message}`);
    this.name = "SignedAttributesError";
  }
}

interface _Attribute {
  type: string;
  value: DerElement;
  start: number;
  end: number;
}

/** The attributes of a DER SET OF Attribute (each `SEQUENCE { OID, SET { one value } }`). */
function _attributesVarTime(der: Uint8Array): _Attribute[] {
  const set = readDerVarTime(der, 0, der.length);
  if (set.tag !== 0x31 || set.end !== der.length) throw new DerError("der: not one SET");
  const out: _Attribute[] = [];
  for (const a of derChildrenVarTime(der, set)) {
    const parts = a.tag === 0x30 ? derChildrenVarTime(der, a) : [];
    if (parts.length !== 2 || parts[0].tag !== 0x06 || parts[1].tag !== 0x31) {
      throw new DerError("der: not an Attribute");
    }
    const values = derChildrenVarTime(der, parts[1]);
    if (values.length !== 1) throw new DerError("der: an attribute with other than one value");
    out.push({ type: derOidVarTime(der, parts[0]), value: values[0], start: a.start, end: a.end });
  }
  return out;
}

/** True when `bytes` are one DER SET of CMS attributes (module doc). */
export function isSignedAttributesLike(bytes: Uint8Array): boolean {
  if (bytes.length < 2 || bytes[0] !== 0x31) return false;
  try {
    return _attributesVarTime(bytes).length > 0;
  } catch {
    return false;
  }
}

function _inDerOrder(der: Uint8Array, attrs: _Attribute[]): boolean {
  for (let i = 1; i < attrs.length; i++) {
    const a = der.subarray(attrs[i - 1].start, attrs[i - 1].end);
    const b = der.subarray(attrs[i].start, attrs[i].end);
    let d = 0;
    for (let j = 0; d === 0 && j < Math.max(a.length, b.length); j++) d = (a[j] ?? 0) - (b[j] ?? 0);
    if (d > 0) return false;
  }
  return true;
}

/** The first ESSCertIDv2's certHash of a signing-certificate-v2 value (no hashAlgorithm). */
function _essCertHash(der: Uint8Array, value: DerElement): Uint8Array {
  const certs = value.tag === 0x30 ? derChildrenVarTime(der, value)[0] : undefined;
  const first = certs?.tag === 0x30 ? derChildrenVarTime(der, certs)[0] : undefined;
  const hash = first?.tag === 0x30 ? derChildrenVarTime(der, first)[0] : undefined;
  if (!hash || hash.tag !== 0x04 || hash.end - hash.body !== 32) {
    throw new SignedAttributesError("signing-certificate-v2 must name a SHA-256 hash");
  }
  return der.subarray(hash.body, hash.end);
}

/** What the worker signs for, once checked. */
export interface CheckedSignedAttributes {
  /** The message-digest attribute: SHA-256 of the document (or a PDF's byte range). */
  messageDigest: Uint8Array;
  /** Whether a signing-time attribute is present (CAdES; PAdES leaves it out). */
  signingTime: boolean;
}

/**
 * Checks that `der` is a signed-attributes SET the user's key may sign for a document
 * (module doc); `certificate` is the signed-in user's certificate (DER). Throws
 * {@link SignedAttributesError} otherwise.
 */
export async function checkSignedAttributes(
  der: Uint8Array,
  certificate: Uint8Array,
): Promise<CheckedSignedAttributes> {
  if (der.length > SIGNED_ATTRIBUTES_MAX_BYTES) throw new SignedAttributesError("too long");
  let attrs: _Attribute[];
  try {
    attrs = _attributesVarTime(der);
  } catch (err) {
    throw new SignedAttributesError(err instanceof Error ? err.message : "not DER");
  }
  const byType = new Map<string, DerElement>();
  for (const a of attrs) {
    if (!Object.values(_OID).includes(a.type as never) || a.type === _OID.data) {
      throw new SignedAttributesError(`unexpected attribute ${a.type}`);
    }
    if (byType.has(a.type)) throw new SignedAttributesError(`${a.type} twice`);
    byType.set(a.type, a.value);
  }
  if (!_inDerOrder(der, attrs)) throw new SignedAttributesError("not in DER order");
  const ct = byType.get(_OID.contentType);
  if (!ct || ct.tag !== 0x06 || derOidVarTime(der, ct) !== _OID.data) {
    throw new SignedAttributesError("content-type must be id-data");
  }
  const md = byType.get(_OID.messageDigest);
  if (!md || md.tag !== 0x04 || md.end - md.body !== 32) {
    throw new SignedAttributesError("message-digest must be 32 bytes");
  }
  const ess = byType.get(_OID.signingCertificateV2);
  if (!ess) throw new SignedAttributesError("signing-certificate-v2 is missing");
  const certHash = await sha256(certificate);
  const named = _essCertHash(der, ess);
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= named[i] ^ certHash[i];
  if (diff !== 0) {
    throw new SignedAttributesError("signing-certificate-v2 names another certificate");
  }
  const st = byType.get(_OID.signingTime);
  if (st && st.tag !== 0x17 && st.tag !== 0x18) {
    throw new SignedAttributesError("signing-time must be a time");
  }
  return { messageDigest: der.slice(md.body, md.end), signingTime: st !== undefined };
}
