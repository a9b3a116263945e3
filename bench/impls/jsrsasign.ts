/**
 * jsrsasign: pure JavaScript RSA on Tom Wu's jsbn (CRT sign), hex strings in and out.
 * Version 11 removed RSA encryption, so OAEP is n/a.
 *
 * @module
 */
import jsrsasign from "jsrsasign";
import { fromHex, toHex, toPem } from "./bytes.ts";
import type { GeneratedKey, KeyMaterial, RsaAdapter, RsaOps } from "./types.ts";

// deno-lint-ignore no-explicit-any
type Any = any;
const j: Any = jsrsasign;

function _sign(
  alg: string,
  key: Any,
  message: Uint8Array,
  params: Record<string, unknown> = {},
): Uint8Array {
  const sig = new j.KJUR.crypto.Signature({ alg, ...params });
  sig.init(key);
  sig.updateHex(toHex(message));
  return fromHex(sig.sign());
}

function _verify(
  alg: string,
  key: Any,
  message: Uint8Array,
  signature: Uint8Array,
  params: Record<string, unknown> = {},
): boolean {
  const sig = new j.KJUR.crypto.Signature({ alg, ...params });
  sig.init(key);
  sig.updateHex(toHex(message));
  try {
    return sig.verify(toHex(signature)) === true;
  } catch {
    return false; // jsrsasign throws on some malformed encodings instead of returning false
  }
}

const PSS_ALG = "SHA256withRSAandMGF1";
const PSS_PARAMS = { psssaltlen: 32 };

function _bn(bytes: Uint8Array): Any {
  return new j.BigInteger(bytes.length ? toHex(bytes) : "0", 16);
}

export const jsrsasignRsa: RsaAdapter = {
  name: "jsrsasign",
  kind: "js",
  label: "jsrsasign 11.1.5 (JS, jsbn)",
  load(key: KeyMaterial): Promise<RsaOps> {
    const priv = j.KEYUTIL.getKey(toPem(key.pkcs8, "PRIVATE KEY"));
    const pub = j.KEYUTIL.getKey(toPem(key.spki, "PUBLIC KEY"));
    return Promise.resolve({
      signPkcs1: (m) => _sign("SHA256withRSA", priv, m),
      verifyPkcs1: (m, s) => _verify("SHA256withRSA", pub, m, s),
      signPss: (m) => _sign(PSS_ALG, priv, m, PSS_PARAMS),
      verifyPss: (m, s) => _verify(PSS_ALG, pub, m, s, PSS_PARAMS),
    });
  },
  generate(bits: number): GeneratedKey {
    const k = j.KEYUTIL.generateKeypair("RSA", bits).prvKeyObj;
    const big = (x: Any) => BigInt("0x" + x.toString(16));
    return { components: () => ({ n: big(k.n), e: big(k.e), d: big(k.d) }) };
  },
  modPow(base, exponent, modulus) {
    const r = _bn(base).modPow(_bn(exponent), _bn(modulus));
    return fromHex(r.toString(16).padStart(2 * modulus.length, "0"));
  },
};
