/**
 * The bank's own key pairs (DESIGN.md §1, §2.8): PUB(i,h), its integrity key
 * (RSA-3072, RSASSA-PKCS1-v1_5 SHA-256; signs receipts and certifies PUB(c,h)), and
 * PUB(c,h), its confidentiality key (RSA-2048, RSA-OAEP SHA-256; unwraps each
 * message's host session key). Made on first start in `<dataDir>/host-bank/`
 * (directory 0700, private keys PKCS#8 PEM 0600) with self-issued X.509
 * certificates (`@peculiar/x509`): the bank is a separate organisation, so its
 * keys are not certified by roamsign's CA (docs/host-bank.md).
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { pemDecode, pemEncode } from "../../protocol/mod.ts";

x509.cryptoProvider.set(crypto);

/** The loaded keys. Private keys are non-extractable CryptoKeys. */
export interface HostKeyPairs {
  /** Signs receipts (RSASSA-PKCS1-v1_5 SHA-256). */
  integrityKey: CryptoKey;
  /** Unwraps host session keys (RSA-OAEP SHA-256). */
  confidentialityKey: CryptoKey;
  integrityCert: string;
  confidentialityCert: string;
}

const _SIGN = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const _OAEP = { name: "RSA-OAEP", hash: "SHA-256" } as const;
const _DAY = 86_400_000;

/** A positive 128-bit serial from the CSPRNG, hex. */
function _serial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0] & 0x7f) | 0x01;
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function _readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

async function _writeNew(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, text, { mode, createNew: true });
  await Deno.chmod(tmp, mode);
  await Deno.rename(tmp, path);
}

async function _create(dir: string, name: string) {
  const integrity = await crypto.subtle.generateKey(
    { ..._SIGN, modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const confidentiality = await crypto.subtle.generateKey(
    { ..._OAEP, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["encrypt", "decrypt"],
  ) as CryptoKeyPair;
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + 5 * 365 * _DAY);
  const issuer = `CN=roamsign demo ${name} integrity, O=roamsign demo ${name}`;
  const integrityCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: _serial(),
    name: issuer,
    notBefore,
    notAfter,
    signingAlgorithm: _SIGN,
    keys: integrity,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(integrity.publicKey),
    ],
  });
  const confidentialityCert = await x509.X509CertificateGenerator.create({
    serialNumber: _serial(),
    subject: `CN=roamsign demo ${name} confidentiality, O=roamsign demo ${name}`,
    issuer,
    notBefore,
    notAfter,
    signingAlgorithm: _SIGN,
    publicKey: confidentiality.publicKey,
    signingKey: integrity.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment, true),
      await x509.SubjectKeyIdentifierExtension.create(confidentiality.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(integrity.publicKey),
    ],
  });
  for (
    const [file, key] of [["integrity", integrity], ["confidentiality", confidentiality]] as const
  ) {
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", key.privateKey));
    await _writeNew(`${dir}/${file}-key.pem`, pemEncode(pkcs8, "PRIVATE KEY"), 0o600);
    pkcs8.fill(0);
  }
  // Certificates last: their presence says the set is complete.
  await _writeNew(`${dir}/confidentiality-cert.pem`, confidentialityCert.toString("pem"), 0o644);
  await _writeNew(`${dir}/integrity-cert.pem`, integrityCert.toString("pem"), 0o644);
}

async function _importPrivate(path: string, alg: RsaHashedImportParams, usage: KeyUsage) {
  await Deno.chmod(path, 0o600);
  const der = pemDecode(await Deno.readTextFile(path), "PRIVATE KEY");
  try {
    return await crypto.subtle.importKey("pkcs8", der as BufferSource, alg, false, [usage]);
  } finally {
    der.fill(0);
  }
}

/** Loads the bank's keys from `<dataDir>/host-bank/`, creating them on first start. */
export async function loadHostKeys(dataDir: string, name = "bank"): Promise<HostKeyPairs> {
  const dir = `${dataDir}/host-bank`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  if ((await _readIfExists(`${dir}/integrity-cert.pem`)) === null) await _create(dir, name);
  const integrityCert = (await _readIfExists(`${dir}/integrity-cert.pem`))!;
  const confidentialityCert = await Deno.readTextFile(`${dir}/confidentiality-cert.pem`);
  return {
    integrityKey: await _importPrivate(`${dir}/integrity-key.pem`, _SIGN, "sign"),
    confidentialityKey: await _importPrivate(`${dir}/confidentiality-key.pem`, _OAEP, "decrypt"),
    integrityCert,
    confidentialityCert,
  };
}
