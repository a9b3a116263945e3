/**
 * micro-rsa-dsa-dh: RSA on native BigInt. Its private key is (n, d) only, so a
 * signature is one full-length exponentiation (no CRT); hashing by @noble/hashes.
 * Its `pow` is also the bench's BigInt modPow peer.
 *
 * @module
 */
import { keygen, mgf1, OAEP, PKCS1_SHA256, PSS } from "micro-rsa-dsa-dh/rsa.js";
import { pow } from "micro-rsa-dsa-dh/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bigIntToBytes, bytesToBigInt, jwkInt } from "./bytes.ts";
import type { GeneratedKey, KeyMaterial, RsaAdapter, RsaOps } from "./types.ts";

const pss = PSS(sha256, mgf1(sha256), 32);
const oaep = OAEP(sha256, mgf1(sha256));

export const microRsa: RsaAdapter = {
  name: "micro-rsa-dsa-dh",
  kind: "js",
  label: "micro-rsa-dsa-dh 0.2.3 (JS, BigInt)",
  load(key: KeyMaterial): Promise<RsaOps> {
    const n = jwkInt(key.jwk, "n");
    const pub = { n, e: jwkInt(key.jwk, "e") };
    const priv = { n, d: jwkInt(key.jwk, "d") };
    return Promise.resolve({
      signPkcs1: (m) => PKCS1_SHA256.sign(priv, m),
      verifyPkcs1: (m, s) => PKCS1_SHA256.verify(pub, m, s),
      signPss: (m) => pss.sign(priv, m),
      verifyPss: (m, s) => pss.verify(pub, m, s),
      encryptOaep: (p) => oaep.encrypt(pub, p),
      decryptOaep: (c) => oaep.decrypt(priv, c),
    });
  },
  generate(bits: number): GeneratedKey {
    const { publicKey, privateKey } = keygen(bits);
    return { components: () => ({ n: publicKey.n, e: publicKey.e, d: privateKey.d }) };
  },
  modPow(base, exponent, modulus) {
    const r = pow(bytesToBigInt(base), bytesToBigInt(exponent), bytesToBigInt(modulus));
    return bigIntToBytes(r, modulus.length);
  },
};
