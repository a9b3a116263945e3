/**
 * Just enough DER (X.690) to take an X.509 certificate (RFC 5280 §4.1) apart in
 * the worker without pulling an ASN.1 library into the applet: the signed
 * TBSCertificate bytes, the SubjectPublicKeyInfo, the signature algorithm OID
 * and the signature; and, for the chain check against the pinned CA
 * ({@link certificateDetails}), the validity, the subject's common name and the
 * key usage bits. Strict: definite lengths only, minimal length encodings,
 * no trailing bytes. Not constant time (certificates are public).
 *
 * @module
 */
import { b64uEncode } from "./base64url.ts";

/** Thrown for bytes that are not the DER this module expects. */
export class DerError extends Error {
  readonly code = "bad_certificate";
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

interface _Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  body: number;
  /** Offset just past the content. */
  end: number;
}

function _readTlvVarTime(der: Uint8Array, at: number, limit: number): _Tlv {
  if (at + 2 > limit) throw new DerError("der: truncated");
  const tag = der[at];
  if ((tag & 0x1f) === 0x1f) throw new DerError("der: multi-byte tags unsupported");
  let len = der[at + 1];
  let body = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw new DerError("der: unsupported length form");
    if (body + n > limit) throw new DerError("der: truncated length");
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | der[body + i];
    if (len < 0x80 || (n > 1 && der[body] === 0)) throw new DerError("der: non-minimal length");
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new DerError("der: content runs past its parent");
  return { tag, start: at, body, end };
}

function _childrenVarTime(der: Uint8Array, parent: _Tlv): _Tlv[] {
  const out: _Tlv[] = [];
  let at = parent.body;
  while (at < parent.end) {
    const t = _readTlvVarTime(der, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

/** One DER element: its tag and offsets (for protocol/signed_attributes.ts). */
export type DerElement = Readonly<_Tlv>;

/** The element at `at` (strict DER lengths, within `limit`); throws {@link DerError}. */
export function readDerVarTime(der: Uint8Array, at: number, limit: number): DerElement {
  return _readTlvVarTime(der, at, limit);
}

/** The elements inside a constructed element. */
export function derChildrenVarTime(der: Uint8Array, parent: DerElement): DerElement[] {
  return _childrenVarTime(der, parent);
}

/** The dotted text of an OBJECT IDENTIFIER element. */
export function derOidVarTime(der: Uint8Array, t: DerElement): string {
  return _oidVarTime(der, t);
}

function _oidVarTime(der: Uint8Array, t: _Tlv): string {
  if (t.tag !== 0x06 || t.end === t.body) throw new DerError("der: expected an OID");
  const parts: number[] = [];
  let v = 0;
  for (let i = t.body; i < t.end; i++) {
    v = v * 128 + (der[i] & 0x7f);
    if (!(der[i] & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

/** The parts of a certificate the applet needs. */
export interface CertificateParts {
  /** DER of TBSCertificate: what the issuer signed. */
  tbs: Uint8Array;
  /** DER of SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** OID of the outer signatureAlgorithm. */
  signatureAlgorithm: string;
  /** The signature bytes (BIT STRING without its unused-bits octet). */
  signature: Uint8Array;
  /** The serial number as lower-case hex. */
  serialHex: string;
}

/** OID of sha256WithRSAEncryption (RFC 4055). */
export const OID_SHA256_WITH_RSA = "1.2.840.113549.1.1.11";

/** Splits a DER certificate into its parts. */
export function parseCertificate(der: Uint8Array): CertificateParts {
  const cert = _readTlvVarTime(der, 0, der.length);
  if (cert.tag !== 0x30 || cert.end !== der.length) throw new DerError("x509: not a certificate");
  const top = _childrenVarTime(der, cert);
  if (top.length !== 3 || top[0].tag !== 0x30 || top[1].tag !== 0x30 || top[2].tag !== 0x03) {
    throw new DerError("x509: expected tbsCertificate, signatureAlgorithm, signature");
  }
  const tbsFields = _childrenVarTime(der, top[0]);
  const offset = tbsFields[0]?.tag === 0xa0 ? 1 : 0; // [0] version is optional
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const serial = tbsFields[offset];
  const spki = tbsFields[offset + 5];
  if (!serial || serial.tag !== 0x02 || !spki || spki.tag !== 0x30) {
    throw new DerError("x509: tbsCertificate fields");
  }
  const algFields = _childrenVarTime(der, top[1]);
  if (algFields.length < 1) throw new DerError("x509: signatureAlgorithm");
  const sig = top[2];
  if (sig.end - sig.body < 2 || der[sig.body] !== 0) {
    throw new DerError("x509: signature BIT STRING");
  }
  let serialHex = "";
  for (let i = serial.body; i < serial.end; i++) serialHex += der[i].toString(16).padStart(2, "0");
  return {
    tbs: der.slice(top[0].start, top[0].end),
    spki: der.slice(spki.start, spki.end),
    signatureAlgorithm: _oidVarTime(der, algFields[0]),
    signature: der.slice(sig.body + 1, sig.end),
    serialHex,
  };
}

/** Validity, subject and key usage of a certificate (RFC 5280 §4.1.2.5, §4.1.2.6, §4.2.1.3). */
export interface CertificateDetails {
  notBefore: Date;
  notAfter: Date;
  /** The subject's first commonName (2.5.4.3), or null. */
  subjectCn: string | null;
  /** keyUsage bits as a number (bit 0, digitalSignature, is 0x80 …), or null without the extension. */
  keyUsage: number | null;
}

/** keyUsage bits (RFC 5280 §4.2.1.3) in the form {@link CertificateDetails.keyUsage} gives. */
export const KEY_USAGE = {
  digitalSignature: 0x80,
  nonRepudiation: 0x40,
  keyEncipherment: 0x20,
  keyCertSign: 0x04,
  cRLSign: 0x02,
} as const;

function _timeVarTime(der: Uint8Array, t: _Tlv): Date {
  const text = String.fromCharCode(...der.subarray(t.body, t.end));
  const m = t.tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : t.tag === 0x18
    ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : null;
  if (!m) throw new DerError("x509: validity time");
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900; // RFC 5280 §4.1.2.5.1
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), +m[4], +m[5], +m[6]));
}

/** The parts of TBSCertificate the chain check needs (see {@link CertificateDetails}). */
export function certificateDetails(der: Uint8Array): CertificateDetails {
  const cert = _readTlvVarTime(der, 0, der.length);
  const tbs = _childrenVarTime(der, _childrenVarTime(der, cert)[0]);
  const offset = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const validity = tbs[offset + 3];
  const subject = tbs[offset + 4];
  if (validity?.tag !== 0x30 || subject?.tag !== 0x30) throw new DerError("x509: tbs fields");
  const times = _childrenVarTime(der, validity);
  if (times.length !== 2) throw new DerError("x509: validity");
  let subjectCn: string | null = null;
  for (const rdn of _childrenVarTime(der, subject)) {
    for (const atv of _childrenVarTime(der, rdn)) {
      const [oid, value] = _childrenVarTime(der, atv);
      if (subjectCn === null && oid && value && _oidVarTime(der, oid) === "2.5.4.3") {
        subjectCn = new TextDecoder("utf-8", { fatal: true }).decode(
          der.subarray(value.body, value.end),
        );
      }
    }
  }
  let keyUsage: number | null = null;
  const ext = tbs.slice(offset + 6).find((t) => t.tag === 0xa3);
  if (ext) {
    for (const e of _childrenVarTime(der, _childrenVarTime(der, ext)[0])) {
      const parts = _childrenVarTime(der, e);
      if (_oidVarTime(der, parts[0]) !== "2.5.29.15") continue;
      const octets = parts[parts.length - 1];
      const bits = _readTlvVarTime(der, octets.body, octets.end);
      if (octets.tag !== 0x04 || bits.tag !== 0x03 || bits.end - bits.body < 2) {
        throw new DerError("x509: keyUsage");
      }
      keyUsage = der[bits.body + 1];
    }
  }
  return {
    notBefore: _timeVarTime(der, times[0]),
    notAfter: _timeVarTime(der, times[1]),
    subjectCn,
    keyUsage,
  };
}

/** Decodes the first PEM block with the given label. */
export function pemDecode(pem: string, label = "CERTIFICATE"): Uint8Array {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(
    pem,
  );
  if (!m) throw new DerError(`pem: no ${label} block`);
  const bin = atob(m[1].replace(/\s+/g, ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Encodes DER as PEM with 64-column lines. */
export function pemEncode(der: Uint8Array, label = "CERTIFICATE"): string {
  let bin = "";
  for (const b of der) bin += String.fromCharCode(b);
  const b64 = btoa(bin);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Standard base64 (with padding) of bytes: the form a signature is shown in. */
export function base64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** base64url of a certificate's SPKI, a convenient key identifier. */
export function spkiOf(pem: string): string {
  return b64uEncode(parseCertificate(pemDecode(pem)).spki);
}
