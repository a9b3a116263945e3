/**
 * The check of a SignedData's one SignerInfo (RFC 5652 §5.6): the signer's certificate
 * is found among the certificates by issuer and serial number; the signed attributes
 * must hold the expected content-type, a message-digest equal to the content's SHA-256
 * and an ESS signing-certificate-v2 whose hash is that certificate's; the signature over
 * the DER SET of the signed attributes must verify with the certificate's key
 * (WebCrypto). Whether the certificate itself is to be trusted is the caller's question
 * ({@link SignerCheck.issuedBy}, the directory in examples/verify).
 *
 * @module
 */
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { type Attribute, SignedData, SigningTime } from "@peculiar/asn1-cms";
import { Certificate } from "@peculiar/asn1-x509";
import { RsaSaPssParams } from "@peculiar/asn1-rsa";
import { parseCertificate } from "../protocol/mod.ts";
import { AttributeSet, buf, der, OID, sameBytes, sha256, SigningCertificateV2 } from "./asn1.ts";
import { type DocumentAlg, oidValue } from "./cms.ts";

/** What {@link checkSignerInfo} found. */
export interface SignerCheck {
  valid: boolean;
  problem?: string;
  /** The signer's certificate (DER), when the SignedData carries it. */
  certificate?: Uint8Array;
  alg?: DocumentAlg;
  /** The signing-time attribute, if present. */
  signingTime?: Date;
  /** The signature value (what a B-T token covers). */
  signature: Uint8Array;
  /** The DER SET of the signed attributes: the bytes the signature is over. */
  signedAttributes?: Uint8Array;
  /** The unsigned attributes' id-aa-timeStampToken value, if any. */
  timestampToken?: Uint8Array;
  /** True when `ca` (DER) signed the signer's certificate. */
  issuedBy(ca: Uint8Array): Promise<boolean>;
}

function _attr(attrs: Attribute[] | undefined, type: string): ArrayBuffer | undefined {
  const found = attrs?.filter((a) => a.attrType === type) ?? [];
  return found.length === 1 && found[0].attrValues.length === 1
    ? found[0].attrValues[0]
    : undefined;
}

function _findCertificate(sd: SignedData): Uint8Array | undefined {
  const sid = sd.signerInfos[0].sid.issuerAndSerialNumber;
  if (!sid) return undefined;
  for (const choice of sd.certificates ?? []) {
    const c = choice.certificate;
    if (!c) continue;
    if (
      sameBytes(der(c.tbsCertificate.issuer), der(sid.issuer)) &&
      sameBytes(new Uint8Array(c.tbsCertificate.serialNumber), new Uint8Array(sid.serialNumber))
    ) return der(c);
  }
  return undefined;
}

function _alg(oid: string, params: ArrayBuffer | null | undefined): DocumentAlg | undefined {
  if (oid === OID.rsaEncryption || oid === OID.sha256WithRsa) return "pkcs1";
  if (oid !== OID.rsassaPss || !params) return undefined;
  const p = AsnConvert.parse(params, RsaSaPssParams);
  return p.hashAlgorithm.algorithm === OID.sha256 && p.saltLength === 32 ? "pss" : undefined;
}

/** True when `signature` by `spki`'s key over `data` verifies under `alg`. */
export async function rsaVerify(
  spki: Uint8Array,
  alg: DocumentAlg,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const name = alg === "pss" ? "RSA-PSS" : "RSASSA-PKCS1-v1_5";
  try {
    const key = await crypto.subtle.importKey("spki", buf(spki), { name, hash: "SHA-256" }, false, [
      "verify",
    ]);
    return await crypto.subtle.verify(
      alg === "pss" ? { name, saltLength: 32 } : { name },
      key,
      buf(signature),
      buf(data),
    );
  } catch {
    return false;
  }
}

/**
 * The DER SET of the signed attributes in their order in the SignerInfo (each value kept
 * as its bytes): the bytes signed when the signer wrote DER, as RFC 5652 §5.4 asks and
 * as OpenSSL, which re-encodes them the same way, assumes.
 */
function _signedBytes(sd: SignedData): Uint8Array | undefined {
  const attrs = sd.signerInfos[0].signedAttrs;
  return attrs && attrs.length > 0 ? der(new AttributeSet(attrs)) : undefined;
}

/** Checks the one SignerInfo of `sd` over content whose SHA-256 is `digest`. */
export async function checkSignerInfo(
  sd: SignedData,
  digest: Uint8Array,
  contentType: string = OID.data,
): Promise<SignerCheck> {
  if (sd.signerInfos.length !== 1) throw new Error("cms: expected exactly one signer");
  const si = sd.signerInfos[0];
  const certificate = _findCertificate(sd);
  const signature = new Uint8Array(si.signature.buffer);
  const tst = _attr(si.unsignedAttrs, OID.timeStampToken);
  const st = _attr(si.signedAttrs, OID.signingTime);
  const base = {
    certificate,
    signature,
    signedAttributes: _signedBytes(sd),
    timestampToken: tst ? new Uint8Array(tst) : undefined,
    signingTime: st ? AsnConvert.parse(st, SigningTime).getTime() : undefined,
    issuedBy: async (ca: Uint8Array) => {
      if (!certificate) return false;
      const c = parseCertificate(certificate);
      return c.signatureAlgorithm === OID.sha256WithRsa &&
        await rsaVerify(parseCertificate(ca).spki, "pkcs1", c.tbs, c.signature);
    },
  };
  const fail = (problem: string): SignerCheck => ({ ...base, valid: false, problem });
  if (!certificate) return fail("the signer's certificate is not in the signature");
  const ct = _attr(si.signedAttrs, OID.contentType);
  if (!ct || !sameBytes(new Uint8Array(ct), oidValue(contentType))) {
    return fail("the content-type attribute is missing or wrong");
  }
  const md = _attr(si.signedAttrs, OID.messageDigest);
  if (!md || !sameBytes(new Uint8Array(AsnConvert.parse(md, OctetString).buffer), digest)) {
    return fail("the content does not match the signature's message digest");
  }
  const ess = _attr(si.signedAttrs, OID.signingCertificateV2);
  const essCert = ess ? AsnConvert.parse(ess, SigningCertificateV2).certs[0] : undefined;
  if (
    !essCert || essCert.hashAlgorithm !== undefined ||
    !sameBytes(new Uint8Array(essCert.certHash.buffer), await sha256(certificate))
  ) return fail("the signing-certificate-v2 attribute does not name the signer's certificate");
  const alg = _alg(si.signatureAlgorithm.algorithm, si.signatureAlgorithm.parameters);
  if (!alg) return fail("unsupported signature algorithm");
  const signed = _signedBytes(sd);
  const spki = der(
    AsnConvert.parse(buf(certificate), Certificate).tbsCertificate.subjectPublicKeyInfo,
  );
  if (!signed || !(await rsaVerify(spki, alg, signed, signature))) {
    return { ...fail("the signature does not verify"), alg };
  }
  return { ...base, valid: true, alg };
}
