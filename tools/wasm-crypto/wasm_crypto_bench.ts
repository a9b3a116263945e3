/**
 * Rough speed figures of the core against WebCrypto in Deno (`deno bench -A tools/wasm-crypto/`).
 * The real benchmark (Chromium, peers, medians, report) is `deno task bench` (bench/).
 */
import {
  generateRsaKey,
  importPrivateKeyPkcs8,
  initWasmCrypto,
  modPow,
  sha256,
  signPkcs1v15,
  verifyPkcs1v15,
} from "../../wasm-crypto/mod.ts";
import { webCryptoKey } from "../../wasm-crypto/test_util.ts";

await initWasmCrypto();
type Buf = Uint8Array<ArrayBuffer>;
const msg = new TextEncoder().encode("pay 10 EUR") as Buf;
const { pair } = await webCryptoKey("RSASSA-PKCS1-v1_5");
const key = importPrivateKeyPkcs8(
  new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
);
const sig = signPkcs1v15(key, "SHA-256", msg);
const mib = crypto.getRandomValues(new Uint8Array(65536));
const big = new Uint8Array(1 << 20);
for (let i = 0; i < 16; i++) big.set(mib, i * 65536);
const m1024 = crypto.getRandomValues(new Uint8Array(128));
m1024[0] |= 0x80;
m1024[127] |= 1;
const e1024 = crypto.getRandomValues(new Uint8Array(128));

Deno.bench("RSA-2048 PKCS#1 v1.5 sign (wasm-crypto)", { group: "sign", baseline: true }, () => {
  signPkcs1v15(key, "SHA-256", msg);
});
Deno.bench("RSA-2048 PKCS#1 v1.5 sign (WebCrypto)", { group: "sign" }, async () => {
  await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, msg);
});
Deno.bench("RSA-2048 verify (wasm-crypto)", { group: "verify", baseline: true }, () => {
  verifyPkcs1v15(key.publicKey, "SHA-256", msg, sig);
});
Deno.bench("RSA-2048 verify (WebCrypto)", { group: "verify" }, async () => {
  await crypto.subtle.verify("RSASSA-PKCS1-v1_5", pair.publicKey, sig as Buf, msg);
});
Deno.bench(
  "RSA-2048 keygen (wasm-crypto)",
  { group: "keygen", baseline: true, n: 20, warmup: 1 },
  () => {
    generateRsaKey(2048).destroy();
  },
);
Deno.bench("RSA-2048 keygen (WebCrypto)", { group: "keygen", n: 20, warmup: 1 }, async () => {
  await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign"],
  );
});
Deno.bench("SHA-256 1 MiB (wasm-crypto)", { group: "sha", baseline: true }, () => {
  sha256(big);
});
Deno.bench("SHA-256 1 MiB (WebCrypto)", { group: "sha" }, async () => {
  await crypto.subtle.digest("SHA-256", big);
});
Deno.bench("modPow 1024-bit modulus and exponent (constant time)", { group: "modpow" }, () => {
  modPow(msg, e1024, m1024);
});
