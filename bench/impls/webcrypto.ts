/**
 * WebCrypto (`crypto.subtle`): the browser's native RSA and SHA, the reference the
 * issue's targets are measured against, and the verifier of every other adapter.
 *
 * @module
 */
import { bs, jwkInt } from "./bytes.ts";
import type { GeneratedKey, HashAdapter, KeyMaterial, RsaAdapter, RsaOps } from "./types.ts";

const PKCS1 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const PSS = { name: "RSA-PSS", hash: "SHA-256" } as const;
const OAEP = { name: "RSA-OAEP", hash: "SHA-256" } as const;
const PSS_PARAMS = { name: "RSA-PSS", saltLength: 32 } as const;

/** Import the shared key under the three RSA algorithms WebCrypto distinguishes. */
export async function importWebCryptoKeys(key: KeyMaterial) {
  const subtle = crypto.subtle;
  const [pkcs1Priv, pkcs1Pub, pssPriv, pssPub, oaepPriv, oaepPub] = await Promise.all([
    subtle.importKey("pkcs8", bs(key.pkcs8), PKCS1, false, ["sign"]),
    subtle.importKey("spki", bs(key.spki), PKCS1, false, ["verify"]),
    subtle.importKey("pkcs8", bs(key.pkcs8), PSS, false, ["sign"]),
    subtle.importKey("spki", bs(key.spki), PSS, false, ["verify"]),
    subtle.importKey("pkcs8", bs(key.pkcs8), OAEP, false, ["decrypt"]),
    subtle.importKey("spki", bs(key.spki), OAEP, false, ["encrypt"]),
  ]);
  return { pkcs1Priv, pkcs1Pub, pssPriv, pssPub, oaepPriv, oaepPub };
}

export const webCryptoRsa: RsaAdapter = {
  name: "webcrypto",
  kind: "native",
  label: "WebCrypto (crypto.subtle)",
  async load(key: KeyMaterial): Promise<RsaOps> {
    const k = await importWebCryptoKeys(key);
    const subtle = crypto.subtle;
    return {
      signPkcs1: async (m) => new Uint8Array(await subtle.sign(PKCS1, k.pkcs1Priv, bs(m))),
      verifyPkcs1: (m, s) => subtle.verify(PKCS1, k.pkcs1Pub, bs(s), bs(m)),
      signPss: async (m) => new Uint8Array(await subtle.sign(PSS_PARAMS, k.pssPriv, bs(m))),
      verifyPss: (m, s) => subtle.verify(PSS_PARAMS, k.pssPub, bs(s), bs(m)),
      encryptOaep: async (p) => new Uint8Array(await subtle.encrypt(OAEP, k.oaepPub, bs(p))),
      decryptOaep: async (c) => new Uint8Array(await subtle.decrypt(OAEP, k.oaepPriv, bs(c))),
    };
  },
  async generate(bits: number): Promise<GeneratedKey> {
    const pair = await crypto.subtle.generateKey(
      { ...PKCS1, modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) },
      true,
      ["sign", "verify"],
    );
    return {
      async components() {
        const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
        return { n: jwkInt(jwk, "n"), e: jwkInt(jwk, "e"), d: jwkInt(jwk, "d") };
      },
    };
  },
};

export const webCryptoHash: HashAdapter = {
  name: "webcrypto",
  kind: "native",
  label: "WebCrypto (crypto.subtle.digest)",
  sha1: async (d) => new Uint8Array(await crypto.subtle.digest("SHA-1", bs(d))),
  sha256: async (d) => new Uint8Array(await crypto.subtle.digest("SHA-256", bs(d))),
};

/** Generate one RSA key with WebCrypto and export it in every form the adapters read. */
export async function generateKeyMaterial(bits: number): Promise<KeyMaterial> {
  const pair = await crypto.subtle.generateKey(
    { ...PKCS1, modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  );
  const [pkcs8, spki, jwk] = await Promise.all([
    crypto.subtle.exportKey("pkcs8", pair.privateKey),
    crypto.subtle.exportKey("spki", pair.publicKey),
    crypto.subtle.exportKey("jwk", pair.privateKey),
  ]);
  return { bits, pkcs8: new Uint8Array(pkcs8), spki: new Uint8Array(spki), jwk };
}
