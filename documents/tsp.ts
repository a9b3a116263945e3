/**
 * RFC 3161 time-stamp tokens: {@link buildTimeStampToken} makes one (the vault's TSA,
 * key-vault/tsa.ts) with `@peculiar/asn1-tsp` and the CMS builder of `cms.ts`;
 * {@link checkTimeStampToken} takes one apart and checks it: the imprint is SHA-256 of
 * the bytes it should cover, the TSA's signature verifies (WebCrypto), its ESS
 * signing-certificate-v2 names the certificate that signed, that certificate carries
 * the extended key usage id-kp-timeStamping, and — when a CA is given — it was issued
 * by that CA.
 *
 * The TSA signs SHA-256 imprints only; the token's signed attributes are content-type
 * id-ct-TSTInfo, message-digest and signing-certificate-v2 (RFC 5816), and it carries
 * the TSA's certificate (`certReq` is always honoured).
 *
 * @module
 */
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { ContentInfo, SignedData } from "@peculiar/asn1-cms";
import { MessageImprint, TSTInfo, TSTInfoVersion } from "@peculiar/asn1-tsp";
import {
  AlgorithmIdentifier,
  Certificate,
  ExtendedKeyUsage,
  id_ce_extKeyUsage,
} from "@peculiar/asn1-x509";
import { buf, der, OID, sameBytes, sha256 } from "./asn1.ts";
import { buildSignedAttributes, buildSignedData } from "./cms.ts";
import { checkSignerInfo, type SignerCheck } from "./signer.ts";

/** What the TSA puts in a token. */
export interface TimeStampInput {
  /** SHA-256 of the time-stamped bytes. */
  imprint: Uint8Array;
  /** The requester's nonce, echoed (RFC 3161 §2.4.2). */
  nonce?: Uint8Array;
  /** A unique positive serial number (big-endian bytes). */
  serial: Uint8Array;
  genTime: Date;
  /** The TSA's certificate (DER). */
  tsaCertificate: Uint8Array;
  /** Signs with the TSA's key, RSASSA-PKCS1-v1_5 SHA-256. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** A TimeStampToken (ContentInfo DER). `genTime` is truncated to whole seconds. */
export async function buildTimeStampToken(o: TimeStampInput): Promise<Uint8Array> {
  if (o.imprint.length !== 32) throw new Error("tsp: the imprint must be SHA-256 (32 bytes)");
  const info = new TSTInfo({
    version: TSTInfoVersion.v1,
    policy: OID.tsaPolicy,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID.sha256 }),
      hashedMessage: new OctetString(buf(o.imprint)),
    }),
    serialNumber: buf(o.serial),
    genTime: new Date(Math.floor(o.genTime.getTime() / 1000) * 1000),
  });
  if (o.nonce) info.nonce = buf(o.nonce);
  const content = der(info);
  const signedAttributes = await buildSignedAttributes({
    digest: await sha256(content),
    certificate: o.tsaCertificate,
    contentType: OID.tstInfo,
  });
  return buildSignedData({
    signedAttributes,
    signature: await o.sign(signedAttributes),
    alg: "pkcs1",
    certificate: o.tsaCertificate,
    content: { type: OID.tstInfo, bytes: content },
  });
}

/** What {@link checkTimeStampToken} found. */
export interface TimeStampCheck {
  /** The imprint matches, the signature verifies, the ESS attribute names the signer. */
  valid: boolean;
  /** Why not, when not valid. */
  problem?: string;
  genTime: Date;
  serialHex: string;
  /** The TSA's certificate (DER), as found in the token. */
  tsaCertificate?: Uint8Array;
}

/** The SignedData inside a ContentInfo DER; throws on anything else. */
export function signedDataOf(contentInfo: Uint8Array): SignedData {
  const ci = AsnConvert.parse(buf(contentInfo), ContentInfo);
  if (ci.contentType !== OID.signedData) throw new Error("cms: not a SignedData");
  return AsnConvert.parse(ci.content, SignedData);
}

function _hex(b: ArrayBuffer): string {
  return Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
}

function _hasTimeStampingEku(cert: Certificate): boolean {
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_extKeyUsage);
  if (!ext) return false;
  const eku = AsnConvert.parse(ext.extnValue.buffer, ExtendedKeyUsage);
  return ext.critical === true && eku.length === 1 && eku[0] === OID.timeStamping;
}

/**
 * Checks a token over `covered` (the bytes that were time-stamped: a signature value).
 * `caCertificate` (DER), when given, must have issued the TSA's certificate.
 */
export async function checkTimeStampToken(
  token: Uint8Array,
  covered: Uint8Array,
  caCertificate?: Uint8Array,
): Promise<TimeStampCheck> {
  const sd = signedDataOf(token);
  if (sd.encapContentInfo.eContentType !== OID.tstInfo || !sd.encapContentInfo.eContent?.single) {
    throw new Error("tsp: the token holds no TSTInfo");
  }
  const content = new Uint8Array(sd.encapContentInfo.eContent.single.buffer);
  const info = AsnConvert.parse(buf(content), TSTInfo);
  const base = { genTime: info.genTime, serialHex: _hex(info.serialNumber) };
  const imprint = new Uint8Array(info.messageImprint.hashedMessage.buffer);
  if (info.messageImprint.hashAlgorithm.algorithm !== OID.sha256) {
    return { ...base, valid: false, problem: "the imprint is not SHA-256" };
  }
  if (!sameBytes(imprint, await sha256(covered))) {
    return { ...base, valid: false, problem: "the token is over other bytes" };
  }
  const signer: SignerCheck = await checkSignerInfo(sd, await sha256(content), OID.tstInfo);
  const out = { ...base, tsaCertificate: signer.certificate };
  if (!signer.valid) return { ...out, valid: false, problem: signer.problem };
  const cert = AsnConvert.parse(buf(signer.certificate!), Certificate);
  if (!_hasTimeStampingEku(cert)) {
    return { ...out, valid: false, problem: "the signer is not a time-stamping authority" };
  }
  if (caCertificate && !(await signer.issuedBy(caCertificate))) {
    return { ...out, valid: false, problem: "the TSA's certificate is not from this CA" };
  }
  return { ...out, valid: true };
}
