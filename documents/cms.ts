/**
 * CMS SignedData (RFC 5652), detached, as roamsign signs documents (docs/documents.md):
 * built with `@peculiar/asn1-cms` in two halves around the private-key operation, which
 * happens elsewhere (the applet's signing worker):
 *
 * 1. {@link buildSignedAttributes}: the DER SET the signer signs — content-type id-data,
 *    message-digest (SHA-256 of the content), signing-time (CAdES; left out for PAdES,
 *    where the PDF's /M carries it, ETSI EN 319 142-1 §6.3) and ESS
 *    signing-certificate-v2 naming the signer's certificate.
 * 2. {@link buildSignedData}: the ContentInfo around them with the signature value, the
 *    signer's certificate and its chain, and, for B-T, the RFC 3161 token over the
 *    signature value as the unsigned attribute id-aa-timeStampToken.
 *
 * RSASSA-PKCS1-v1_5 is written as `rsaEncryption` (RFC 3370 §3.2, what every verifier
 * takes); RSA-PSS as `id-RSASSA-PSS` with SHA-256, MGF1-SHA-256 and a 32-byte salt
 * (RFC 4056).
 *
 * @module
 */
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  CertificateChoices,
  CertificateSet,
  CMSVersion,
  ContentInfo,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  SigningTime,
} from "@peculiar/asn1-cms";
import { AlgorithmIdentifier, Certificate } from "@peculiar/asn1-x509";
import { RsaSaPssParams } from "@peculiar/asn1-rsa";
import * as asn1js from "asn1js";
import {
  attribute,
  AttributeSet,
  attributeSet,
  buf,
  der,
  OID,
  sameBytes,
  signingCertificateV2,
} from "./asn1.ts";

/** The two RSA signature schemes a roamsign key signs with. */
export type DocumentAlg = "pkcs1" | "pss";

/** What {@link buildSignedAttributes} needs. */
export interface SignedAttributesInput {
  /** SHA-256 of the signed content (the file, or a PDF's byte range). */
  digest: Uint8Array;
  /** The signer's certificate (DER). */
  certificate: Uint8Array;
  /** When given, the signing-time attribute (CAdES); PAdES leaves it out. */
  signingTime?: Date;
  /** The content type; id-data unless given (a TSA signs id-ct-TSTInfo). */
  contentType?: string;
}

/** DER of an OBJECT IDENTIFIER value. */
export function oidValue(oid: string): Uint8Array {
  return new Uint8Array(new asn1js.ObjectIdentifier({ value: oid }).toBER());
}

/** The signed attributes as the DER SET that is signed (module doc, step 1). */
export async function buildSignedAttributes(o: SignedAttributesInput): Promise<Uint8Array> {
  if (o.digest.length !== 32) throw new Error("cms: the digest must be 32 bytes (SHA-256)");
  const attrs = [
    attribute(OID.contentType, oidValue(o.contentType ?? OID.data)),
    attribute(OID.messageDigest, der(new OctetString(buf(o.digest)))),
    attribute(OID.signingCertificateV2, await signingCertificateV2(o.certificate)),
  ];
  if (o.signingTime) {
    const t = new Date(Math.floor(o.signingTime.getTime() / 1000) * 1000);
    attrs.push(attribute(OID.signingTime, der(new SigningTime(t))));
  }
  return attributeSet(attrs);
}

/** The SignerInfo's signatureAlgorithm for `alg`. */
export function signatureAlgorithm(alg: DocumentAlg): AlgorithmIdentifier {
  if (alg === "pkcs1") {
    return new AlgorithmIdentifier({ algorithm: OID.rsaEncryption, parameters: null });
  }
  const sha256 = new AlgorithmIdentifier({ algorithm: OID.sha256 });
  const params = new RsaSaPssParams({
    hashAlgorithm: sha256,
    maskGenAlgorithm: new AlgorithmIdentifier({
      algorithm: OID.mgf1,
      parameters: AsnConvert.serialize(sha256),
    }),
    saltLength: 32,
  });
  return new AlgorithmIdentifier({
    algorithm: OID.rsassaPss,
    parameters: AsnConvert.serialize(params),
  });
}

/** What {@link buildSignedData} needs. */
export interface SignedDataInput {
  /** Exactly the DER SET that was signed ({@link buildSignedAttributes}). */
  signedAttributes: Uint8Array;
  signature: Uint8Array;
  alg: DocumentAlg;
  /** The signer's certificate (DER). */
  certificate: Uint8Array;
  /** Further certificates to include (the CA), DER. */
  chain?: Uint8Array[];
  /** An RFC 3161 TimeStampToken (ContentInfo DER) over the signature value (B-T). */
  timestampToken?: Uint8Array;
  /** Encapsulated content (a TSA's TSTInfo) and its type; absent: detached id-data. */
  content?: { type: string; bytes: Uint8Array };
}

/** The ContentInfo DER of a SignedData with one signer (module doc, step 2). */
export function buildSignedData(o: SignedDataInput): Uint8Array {
  const signed = AsnConvert.parse(buf(o.signedAttributes), AttributeSet);
  if (!sameBytes(der(signed), o.signedAttributes)) {
    throw new Error("cms: the signed attributes are not in DER");
  }
  const cert = AsnConvert.parse(buf(o.certificate), Certificate);
  const sha256 = new AlgorithmIdentifier({ algorithm: OID.sha256 });
  const signerInfo = new SignerInfo({
    version: CMSVersion.v1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({
        issuer: cert.tbsCertificate.issuer,
        serialNumber: cert.tbsCertificate.serialNumber,
      }),
    }),
    digestAlgorithm: sha256,
    signedAttrs: Array.from(signed),
    signatureAlgorithm: signatureAlgorithm(o.alg),
    signature: new OctetString(buf(o.signature)),
  });
  if (o.timestampToken) {
    signerInfo.unsignedAttrs = [attribute(OID.timeStampToken, o.timestampToken)];
  }
  const certificates = new CertificateSet(
    [o.certificate, ...(o.chain ?? [])].map((c) =>
      new CertificateChoices({ certificate: AsnConvert.parse(buf(c), Certificate) })
    ),
  );
  const encap = new EncapsulatedContentInfo({ eContentType: o.content?.type ?? OID.data });
  if (o.content) {
    encap.eContent = new EncapsulatedContent({ single: new OctetString(buf(o.content.bytes)) });
  }
  const signedData = new SignedData({
    // RFC 5652 §5.1: v3 when the content is not id-data.
    version: o.content && o.content.type !== OID.data ? CMSVersion.v3 : CMSVersion.v1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([sha256]),
    encapContentInfo: encap,
    certificates,
    signerInfos: new SignerInfos([signerInfo]),
  });
  return der(
    new ContentInfo({ contentType: OID.signedData, content: AsnConvert.serialize(signedData) }),
  );
}
