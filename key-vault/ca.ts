/**
 * The server's integrity key PUB(i,s), acting as the certificate authority
 * (docs/architecture.md, "Certificates"): an RSA-3072 key made on the vault's first
 * start, its PKCS#8 sealed under the master key in `vault_secrets`, and a self-signed
 * CA certificate. Issues X.509 v3 user certificates at consent and re-registration
 * (subject CN = identity; keyUsage digitalSignature + nonRepudiation, critical; a
 * 128-bit serial from the CSPRNG) and the web server's confidentiality certificate,
 * and signs the CRL. All with `@peculiar/x509` over WebCrypto.
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import * as asn1X509 from "@peculiar/asn1-x509";
import { AsnConvert } from "@peculiar/asn1-schema";
import { b64uEncode } from "../protocol/mod.ts";

x509.cryptoProvider.set(crypto);

const _RSA: RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  modulusLength: 3072,
  publicExponent: new Uint8Array([1, 0, 1]),
};
const _SIGNING = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const _DAY = 86_400_000;

/** The loaded CA. The private key is a non-extractable CryptoKey. */
export interface Ca {
  certificate: x509.X509Certificate;
  pem: string;
  privateKey: CryptoKey;
}

/** A freshly made CA: the PKCS#8 bytes are for sealing, then the caller zeroes them. */
export interface NewCa {
  pkcs8: Uint8Array;
  pem: string;
}

/** A 128-bit positive serial number, hex, from the CSPRNG. */
export function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01; // keep 16 bytes: no leading zero octet
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Makes a new CA key and its self-signed certificate (valid `years`). */
export async function createCa(years = 20): Promise<NewCa> {
  const keys = await crypto.subtle.generateKey(_RSA, true, ["sign", "verify"]) as CryptoKeyPair;
  const now = new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: "CN=roamsign CA, O=roamsign",
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + years * 365 * _DAY),
    signingAlgorithm: _SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { pkcs8, pem: cert.toString("pem") };
}

/** Loads a CA from its PKCS#8 bytes and PEM certificate. */
export async function loadCa(pkcs8: Uint8Array, pem: string): Promise<Ca> {
  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    pkcs8 as Uint8Array<ArrayBuffer>,
    _SIGNING,
    false,
    ["sign"],
  );
  const certificate = new x509.X509Certificate(pem);
  return { certificate, pem, privateKey };
}

/** What {@link issueCertificate} returns. */
export interface Issued {
  serial: string;
  pem: string;
  subject: string;
  spkiSha256: string;
  notBefore: Date;
  notAfter: Date;
}

/** Which kind of certificate to issue. */
export type CertificatePurpose = "user-signing" | "server-confidentiality" | "timestamping";

/**
 * Issues a certificate for a public key (SubjectPublicKeyInfo DER) valid `days` days.
 * `user-signing`: subject CN=identity, keyUsage digitalSignature + nonRepudiation.
 * `server-confidentiality`: subject CN=roamsign confidentiality, keyUsage keyEncipherment.
 * `timestamping`: the vault's time-stamping authority (key-vault/tsa.ts): keyUsage
 * digitalSignature + nonRepudiation and extendedKeyUsage timeStamping, both critical
 * (RFC 3161 §2.3: that purpose only).
 */
export async function issueCertificate(
  ca: Ca,
  spki: Uint8Array,
  purpose: CertificatePurpose,
  subjectCn: string,
  days: number,
  now: Date = new Date(),
): Promise<Issued> {
  const serial = randomSerial();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * _DAY);
  const subject = `CN=${subjectCn}`;
  const usage = purpose === "server-confidentiality"
    ? x509.KeyUsageFlags.keyEncipherment
    : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation;
  const eku = purpose === "timestamping"
    ? [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.timeStamping], true)]
    : [];
  const publicKey = new x509.PublicKey(spki as Uint8Array<ArrayBuffer>);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject,
    issuer: ca.certificate.subject,
    notBefore,
    notAfter,
    signingAlgorithm: _SIGNING,
    publicKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usage, true),
      ...eku,
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
  });
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", spki as Uint8Array<ArrayBuffer>),
  );
  return {
    serial,
    pem: cert.toString("pem"),
    subject,
    spkiSha256: b64uEncode(digest),
    notBefore,
    notAfter,
  };
}

/** One certificate the CRL lists. */
export interface RevokedEntry {
  serial: string;
  revokedAt: Date;
  /** `superseded` (re-registration), `cessationOfOperation` (revoked by its user or an operator). */
  reason: "superseded" | "revoked";
}

/**
 * Signs a v2 CRL listing `entries`, valid for `hours`, with the CRL number
 * (RFC 5280 §5.2.3, must grow with every CRL the CA issues) and the CA's
 * authority key identifier (§5.2.1). Each entry carries its reason code.
 */
export async function signCrl(
  ca: Ca,
  entries: RevokedEntry[],
  hours = 24,
  now: Date = new Date(),
  number = 1,
): Promise<string> {
  const crlNumber = new x509.Extension(
    asn1X509.id_ce_cRLNumber,
    false,
    AsnConvert.serialize(new asn1X509.CRLNumber(number)),
  );
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.certificate.subject,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + hours * 3_600_000),
    signingAlgorithm: _SIGNING,
    signingKey: ca.privateKey,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
      crlNumber,
    ],
    entries: entries.map((e) => ({
      serialNumber: e.serial,
      revocationDate: e.revokedAt,
      // Always a reason code: the library writes an empty (invalid) extensions field without one.
      reason: e.reason === "superseded"
        ? x509.X509CrlReason.superseded
        : x509.X509CrlReason.cessationOfOperation,
    })),
  });
  // RFC 7468 §5 label; OpenSSL does not read "BEGIN CRL".
  return crl.toString("pem").replace(/-----(BEGIN|END) CRL-----/g, "-----$1 X509 CRL-----");
}

/** The public key of a PEM certificate, for RSASSA-PKCS1-v1_5 SHA-256 verification. */
export function certificateVerifyKey(pem: string): Promise<CryptoKey> {
  const cert = new x509.X509Certificate(pem);
  return crypto.subtle.importKey(
    "spki",
    cert.publicKey.rawData,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
}

/**
 * Writes the CA certificate (public) to `path` for local verifiers to pin (the demo
 * bank's `ROAMSIGN_CA_FILE`, `deno task verify`): to a temporary file, then renamed
 * over, so that a reader (or another vault starting at once) never sees half a file.
 */
export async function writeCaFile(path: string, pem: string): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, pem.endsWith("\n") ? pem : `${pem}\n`, { mode: 0o644 });
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}
