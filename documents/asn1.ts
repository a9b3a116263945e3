/**
 * The ASN.1 that CMS (RFC 5652), ESS (RFC 5035) and TSP (RFC 3161) share here, on top of
 * `@peculiar/asn1-schema` and its CMS/X.509 schemas: the object identifiers, the ESS
 * `SigningCertificateV2` attribute (no maintained npm package defines it, so its three
 * types are declared with the library's decorators), the signed-attributes SET in DER
 * order, and small byte helpers. Nothing here is secret; nothing is constant time.
 *
 * @module
 */
import {
  AsnArray,
  AsnConvert,
  AsnIntegerArrayBufferConverter,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
  OctetString,
} from "@peculiar/asn1-schema";
import { Attribute } from "@peculiar/asn1-cms";
import { AlgorithmIdentifier, Certificate, GeneralName, GeneralNames } from "@peculiar/asn1-x509";

/** Object identifiers used by roamsign's documents. */
export const OID = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  tstInfo: "1.2.840.113549.1.9.16.1.4",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  /** id-aa-signingCertificateV2 (RFC 5035). */
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  /** id-aa-timeStampToken (RFC 3161 appendix A): the unsigned attribute of a B-T signature. */
  timeStampToken: "1.2.840.113549.1.9.16.2.14",
  sha256: "2.16.840.1.101.3.4.2.1",
  rsaEncryption: "1.2.840.113549.1.1.1",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  rsassaPss: "1.2.840.113549.1.1.10",
  mgf1: "1.2.840.113549.1.1.8",
  /** id-kp-timeStamping (RFC 5280 §4.2.1.12). */
  timeStamping: "1.3.6.1.5.5.7.3.8",
  /**
   * The roamsign TSA's policy: a UUID-derived OID (ITU-T X.667, arc 2.25) so that no
   * enterprise number is borrowed. The UUID is bd2d862e-dd0e-43d7-b89e-0e6c4049fe26.
   */
  tsaPolicy: "2.25.251460466117778964711999024280296357414",
} as const;

// The schemas below are declared by calling the library's decorators as functions (its
// legacy decorator signature), so the project needs no `experimentalDecorators` setting.

/** `IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }` */
export class IssuerSerial {
  issuer = new GeneralNames();
  serialNumber = new ArrayBuffer(0);
}
AsnProp({ type: GeneralNames })(IssuerSerial.prototype, "issuer");
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(
  IssuerSerial.prototype,
  "serialNumber",
);

/**
 * `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256},
 * certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }`. roamsign writes SHA-256,
 * so DER leaves `hashAlgorithm` out.
 */
export class EssCertIdV2 {
  hashAlgorithm?: AlgorithmIdentifier;
  certHash = new OctetString();
  issuerSerial?: IssuerSerial;
}
AsnProp({ type: AlgorithmIdentifier, optional: true })(EssCertIdV2.prototype, "hashAlgorithm");
AsnProp({ type: OctetString })(EssCertIdV2.prototype, "certHash");
AsnProp({ type: IssuerSerial, optional: true })(EssCertIdV2.prototype, "issuerSerial");

/** `SEQUENCE OF ESSCertIDv2`. */
export class EssCertIdV2List extends AsnArray<EssCertIdV2> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: EssCertIdV2 })(EssCertIdV2List);

/** `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }` */
export class SigningCertificateV2 {
  certs = new EssCertIdV2List();
}
AsnProp({ type: EssCertIdV2List })(SigningCertificateV2.prototype, "certs");

/** `SignedAttributes ::= SET SIZE (1..MAX) OF Attribute`, tagged as the SET that is signed. */
export class AttributeSet extends AsnArray<Attribute> {}
AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })(AttributeSet);

/** A view of `b` as the exact ArrayBuffer the library's schemas take. */
export function buf(b: Uint8Array): ArrayBuffer {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength &&
      b.buffer instanceof ArrayBuffer
    ? b.buffer
    : b.slice().buffer as ArrayBuffer;
}

/** DER of a schema value as bytes. */
export function der(value: unknown): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(value));
}

/** SHA-256 with WebCrypto (small inputs: attributes, certificates, signatures). */
export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf(data)));
}

/** X.690 §11.6 order of SET OF elements: by their encodings, as octet strings. */
function _derOrder(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The signed attributes as the DER SET that is signed (RFC 5652 §5.4): elements in DER
 * order, which is what a verifier that re-encodes them (OpenSSL does) gets back.
 */
export function attributeSet(attributes: Attribute[]): Uint8Array {
  const sorted = attributes.map((a) => ({ a, d: der(a) })).sort((x, y) => _derOrder(x.d, y.d));
  return der(new AttributeSet(sorted.map((x) => x.a)));
}

/** An attribute with one value, given as DER. */
export function attribute(type: string, value: Uint8Array): Attribute {
  return new Attribute({ attrType: type, attrValues: [buf(value)] });
}

/** The ESS signing-certificate-v2 attribute value for a certificate (DER). */
export async function signingCertificateV2(certificate: Uint8Array): Promise<Uint8Array> {
  const cert = AsnConvert.parse(buf(certificate), Certificate);
  const id = new EssCertIdV2();
  id.certHash = new OctetString(buf(await sha256(certificate)));
  id.issuerSerial = new IssuerSerial();
  id.issuerSerial.issuer = new GeneralNames([
    new GeneralName({ directoryName: cert.tbsCertificate.issuer }),
  ]);
  id.issuerSerial.serialNumber = cert.tbsCertificate.serialNumber;
  const v2 = new SigningCertificateV2();
  v2.certs = new EssCertIdV2List([id]);
  return der(v2);
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Constant-length comparison of two public byte strings. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
