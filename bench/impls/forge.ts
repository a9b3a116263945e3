/**
 * node-forge: pure JavaScript RSA on its own jsbn big integers (CRT sign), bytes as
 * binary strings.
 *
 * forge hands key generation to Node's native `crypto.generateKeyPairSync` when it
 * thinks it runs under Node (it does under Deno); `usePureJavaScript` turns that off
 * so that Deno and Chromium time the same JavaScript.
 *
 * @module
 */
import forge from "node-forge";
import { fromBinaryString, fromHex, toBinaryString, toHex } from "./bytes.ts";
import type { GeneratedKey, KeyMaterial, RsaAdapter, RsaOps } from "./types.ts";

// deno-lint-ignore no-explicit-any
type Any = any;
const f: Any = forge;

function _sha256(message: Uint8Array): Any {
  const md = f.md.sha256.create();
  md.update(toBinaryString(message));
  return md;
}

function _pss(): Any {
  return f.pss.create({
    md: f.md.sha256.create(),
    mgf: f.mgf.mgf1.create(f.md.sha256.create()),
    saltLength: 32,
  });
}

const OAEP_OPTIONS = () => ({ md: f.md.sha256.create(), mgf1: { md: f.md.sha256.create() } });

function _bigHex(x: Any): bigint {
  return BigInt("0x" + x.toString(16));
}

function _jsbn(bytes: Uint8Array): Any {
  return new f.jsbn.BigInteger(bytes.length ? toHex(bytes) : "0", 16);
}

export const forgeRsa: RsaAdapter = {
  name: "node-forge",
  kind: "js",
  label: "node-forge 1.4.3 (JS, jsbn)",
  init() {
    f.options.usePureJavaScript = true;
    return Promise.resolve();
  },
  load(key: KeyMaterial): Promise<RsaOps> {
    const priv = f.pki.privateKeyFromAsn1(
      f.asn1.fromDer(f.util.createBuffer(toBinaryString(key.pkcs8))),
    );
    const pub = f.pki.publicKeyFromAsn1(
      f.asn1.fromDer(f.util.createBuffer(toBinaryString(key.spki))),
    );
    return Promise.resolve({
      signPkcs1: (m) => fromBinaryString(priv.sign(_sha256(m), "RSASSA-PKCS1-V1_5")),
      verifyPkcs1: (m, s) => {
        try {
          return pub.verify(_sha256(m).digest().bytes(), toBinaryString(s), "RSASSA-PKCS1-V1_5");
        } catch {
          return false;
        }
      },
      signPss: (m) => fromBinaryString(priv.sign(_sha256(m), _pss())),
      verifyPss: (m, s) => {
        try {
          return pub.verify(_sha256(m).digest().bytes(), toBinaryString(s), _pss());
        } catch {
          return false;
        }
      },
      encryptOaep: (p) =>
        fromBinaryString(pub.encrypt(toBinaryString(p), "RSA-OAEP", OAEP_OPTIONS())),
      decryptOaep: (c) =>
        fromBinaryString(priv.decrypt(toBinaryString(c), "RSA-OAEP", OAEP_OPTIONS())),
    });
  },
  generate(bits: number): GeneratedKey {
    const pair = f.pki.rsa.generateKeyPair({ bits, e: 0x10001 });
    const k = pair.privateKey;
    return { components: () => ({ n: _bigHex(k.n), e: _bigHex(k.e), d: _bigHex(k.d) }) };
  },
  modPow(base, exponent, modulus) {
    const r = _jsbn(base).modPow(_jsbn(exponent), _jsbn(modulus));
    return fromHex(r.toString(16).padStart(2 * modulus.length, "0"));
  },
};
