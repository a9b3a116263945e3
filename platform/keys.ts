/**
 * The web server's own key: the confidentiality key PUB(c,s) (RSA-OAEP-SHA256,
 * 2048 bits) that unwraps each session's KS(m,a). Created on first start in
 * `DATA_DIR/web/` (directory 0700, private key file 0600, PKCS#8 PEM); its
 * certificate is issued by the vault's CA and kept beside it. The web server cannot
 * ask for it: `ca.issueServer` is an operator operation (docs/trust-anchors.md), so
 * `deno task start` — or `deno task admin web-certificate` where the web server runs
 * apart — calls {@link provisionConfidentialityKey} with the admin credential before
 * the web server starts. The integrity key PUB(i,s) is the CA and lives in the vault.
 *
 * @module
 */
import { b64uEncode } from "../protocol/mod.ts";
import { parseCertificate, pemDecode, pemEncode } from "../protocol/mod.ts";
import { ctEqual } from "../protocol/mod.ts";
import {
  decryptOaep,
  importPrivateKeyPkcs8,
  initWasmCrypto,
  type RsaPrivateKey,
  WasmCryptoError,
} from "../wasm-crypto/mod.ts";
import { createProxyClient } from "./client.ts";
import { readSecret } from "./secrets.ts";

/** Modulus size of PUB(c,s) (docs/session-channel.md: why 2048). */
export const CONFIDENTIALITY_BITS = 2048;

/** The loaded confidentiality key. */
export interface ConfidentialityKey {
  /**
   * The private key in wasm-crypto (its memory, not a JS value): the unwrap runs there,
   * constant time with one uniform error, not in Deno's WebCrypto ({@link unwrapKs}).
   */
  privateKey: RsaPrivateKey;
  /** SPKI DER of the public key. */
  spki: Uint8Array;
  /** Its certificate (PEM), issued by the vault's CA. */
  certificate: string;
}

/** Asks the CA for a certificate over an SPKI (base64url); returns PEM. */
export type CertifyFn = (spki: string) => Promise<string>;

const _OAEP = { name: "RSA-OAEP", hash: "SHA-256" } as const;

async function _readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

async function _createNew(path: string, text: string): Promise<boolean> {
  try {
    const f = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    try {
      const bytes = new TextEncoder().encode(text);
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
    } finally {
      f.close();
    }
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    throw err;
  }
}

/**
 * Loads the confidentiality key from `<dataDir>/web/`, creating the key (and
 * asking `certify` for its certificate) when missing. A second process racing
 * on the same directory reads the file the first one wrote.
 */
export async function loadConfidentialityKey(
  dataDir: string,
  certify: CertifyFn,
): Promise<ConfidentialityKey> {
  const dir = `${dataDir}/web`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPath = `${dir}/confidentiality-key.pem`;
  const certPath = `${dir}/confidentiality-cert.pem`;
  let keyPem = await _readIfExists(keyPath);
  if (keyPem === null) {
    const pair = await crypto.subtle.generateKey(
      {
        ..._OAEP,
        modulusLength: CONFIDENTIALITY_BITS,
        publicExponent: new Uint8Array([1, 0, 1]),
      },
      true,
      ["encrypt", "decrypt"],
    );
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    const pem = pemEncode(pkcs8, "PRIVATE KEY");
    pkcs8.fill(0);
    await _createNew(keyPath, pem);
    keyPem = await Deno.readTextFile(keyPath);
  }
  await Deno.chmod(keyPath, 0o600);
  const pkcs8 = pemDecode(keyPem, "PRIVATE KEY");
  await initWasmCrypto();
  let privateKey: RsaPrivateKey;
  try {
    privateKey = importPrivateKeyPkcs8(pkcs8);
  } finally {
    pkcs8.fill(0);
  }
  const spki = privateKey.publicKey.exportSpki();

  let certificate = await _readIfExists(certPath);
  if (certificate !== null && !_certifies(certificate, spki)) certificate = null;
  if (certificate === null) {
    certificate = await certify(b64uEncode(spki));
    if (!_certifies(certificate, spki)) {
      throw new Error("keys: the CA answered with a certificate for another key");
    }
    const tmp = `${certPath}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(tmp, certificate, { mode: 0o644 });
    await Deno.rename(tmp, certPath);
  }
  return { privateKey, spki, certificate };
}

function _certifies(pem: string, spki: Uint8Array): boolean {
  try {
    return ctEqual(parseCertificate(pemDecode(pem)).spki, spki);
  } catch {
    return false;
  }
}

/**
 * Unwraps a KS sent under PUB(c,s) with the session's label; null if it does not
 * decrypt. RSAES-OAEP-SHA256 in wasm-crypto: the decoding is branch-free and every
 * failure (length, range, padding, label) is the same `decryption_failed` after the same
 * work, so the endpoint is no padding oracle. Deno's WebCrypto is not used here: its RSA
 * decryption (the RustCrypto `rsa` crate) is not constant time (RUSTSEC-2023-0071).
 */
export function unwrapKs(
  key: ConfidentialityKey,
  wrapped: Uint8Array,
  label: Uint8Array,
): Promise<Uint8Array | null> {
  try {
    return Promise.resolve(decryptOaep(key.privateKey, "SHA-256", wrapped, label));
  } catch (err) {
    if (err instanceof WasmCryptoError && err.code === "decryption_failed") {
      return Promise.resolve(null);
    }
    throw err;
  }
}

/**
 * Creates the confidentiality key in `<dataDir>/web/` if missing and has the CA
 * certify it, as the operator (`admin` through the proxy at `proxyUrl`). Returns the
 * certificate's PEM. Run before a web server starts on this data directory.
 */
export async function provisionConfidentialityKey(
  dataDir: string,
  proxyUrl: string,
): Promise<string> {
  const secret = await readSecret("admin-proxy.key", dataDir);
  const admin = createProxyClient({ url: proxyUrl, keyId: "admin", secret });
  secret.fill(0);
  const key = await loadConfidentialityKey(dataDir, async (spki) => {
    const r = await admin.call("ca.issueServer", { spki, purpose: "confidentiality" }) as {
      certificate?: unknown;
    };
    if (typeof r?.certificate !== "string") {
      throw new Error("keys: CA answered without a certificate");
    }
    return r.certificate;
  });
  return key.certificate;
}
