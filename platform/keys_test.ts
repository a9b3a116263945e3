/**
 * The web server's KS unwrap (issue 15 item 9): anyone can ask for one RSA-OAEP decryption
 * per session, up to 600 sessions a minute per address, so it must not be a padding or
 * timing oracle (Bleichenbacher, Manger, Marvin). Deno's WebCrypto RSA comes from the
 * RustCrypto `rsa` crate, whose decryption is not constant time (RUSTSEC-2023-0071,
 * Marvin); the unwrap runs in wasm-crypto instead, whose OAEP decoding is branch-free and
 * fails with one error after the same work (wasm-crypto/rsa.ts `decryptOaep`).
 */
import { assertEquals, assertOk } from "../tests/fixtures/assert.ts";
import { makeTestCa } from "../tests/fixtures/test_ca.ts";
import { b64uDecode } from "../protocol/mod.ts";
import { ksLabel } from "../protocol/mod.ts";
import { loadConfidentialityKey, unwrapKs } from "./keys.ts";
import { webCrypto } from "../tests/fixtures/web_crypto.ts";

function oaepTo(spki: Uint8Array, plaintext: Uint8Array, label: Uint8Array) {
  return webCrypto.encryptOaep(spki, plaintext, label);
}

async function key() {
  const ca = await makeTestCa();
  const dir = await Deno.makeTempDir({ prefix: "roamsign-keys-test-" });
  return await loadConfidentialityKey(
    dir,
    (spki) => ca.issue(b64uDecode(spki), "roamsign confidentiality"),
  );
}

Deno.test("unwrapKs() does not use Deno's WebCrypto RSA (not constant time: RUSTSEC-2023-0071)", async () => {
  const k = await key();
  const sid = "AAAAAAAAAAAAAAAAAAAAAA";
  const ks = crypto.getRandomValues(new Uint8Array(32));
  const wrapped = await oaepTo(k.spki, ks, ksLabel(sid));
  const subtle = crypto.subtle;
  const original = subtle.decrypt;
  // WebCrypto's RSA decryption is made unusable: the unwrap must not need it.
  subtle.decrypt = () => Promise.reject(new Error("WebCrypto decrypt was called"));
  try {
    const got = await unwrapKs(k, wrapped, ksLabel(sid));
    assertEquals(got, ks);
  } finally {
    subtle.decrypt = original;
  }
});

Deno.test("unwrapKs() fails the same way for every bad input: padding, label, length, range", async () => {
  const k = await key();
  const sid = "AAAAAAAAAAAAAAAAAAAAAA";
  const good = await oaepTo(k.spki, new Uint8Array(32), ksLabel(sid));
  const flipped = good.slice();
  flipped[good.length - 1] ^= 1;
  const cases: Uint8Array[] = [
    flipped, // bad padding after decryption
    await oaepTo(k.spki, new Uint8Array(32), ksLabel("BBBBBBBBBBBBBBBBBBBBBB")), // wrong label
    good.subarray(1), // wrong length
    new Uint8Array(good.length).fill(0xff), // not below n
    new Uint8Array(0),
  ];
  for (const c of cases) assertEquals(await unwrapKs(k, c, ksLabel(sid)), null);
  assertOk((await unwrapKs(k, good, ksLabel(sid)))?.length === 32);
});
