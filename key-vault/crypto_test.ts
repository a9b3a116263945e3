import { parseUserSpki, timingSafeEqual, unwrapUnderPhrase, wrapUnderPhrase } from "./crypto.ts";
import { b64uEncode } from "../protocol/mod.ts";
import { ApiError } from "../platform/mod.ts";
import { generateConsentPhrase } from "../protocol/mod.ts";
import { assert } from "../tests/fixtures/assert.ts";

Deno.test("wrapUnderPhrase() opens only with the same phrase and identity", async () => {
  const record = new TextEncoder().encode('{"v":1}');
  const p = generateConsentPhrase();
  const wrapped = await wrapUnderPhrase(record, p.bytes, "alice");
  assert(
    new TextDecoder().decode((await unwrapUnderPhrase(wrapped, p.bytes, "alice"))!) === '{"v":1}',
  );
  assert((await unwrapUnderPhrase(wrapped, generateConsentPhrase().bytes, "alice")) === null);
  assert((await unwrapUnderPhrase(wrapped, p.bytes, "bob")) === null);
});

Deno.test("timingSafeEqual() compares content and length", () => {
  assert(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert(!timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  assert(!timingSafeEqual(new Uint8Array([1]), new Uint8Array([1, 0])));
});

Deno.test("parseUserSpki() accepts RSA-2048 and refuses small RSA and EC keys with bad_public_key", async () => {
  const gen = async (alg: RsaHashedKeyGenParams | EcKeyGenParams) => {
    const k = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
    return b64uEncode(new Uint8Array(await crypto.subtle.exportKey("spki", k.publicKey)));
  };
  const rsa = (bits: number) => ({
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-256",
    modulusLength: bits,
    publicExponent: new Uint8Array([1, 0, 1]),
  });
  assert((await parseUserSpki(await gen(rsa(2048)))).bits === 2048);
  for (
    const spki of [await gen(rsa(1024)), await gen({ name: "ECDSA", namedCurve: "P-256" }), "AAAA"]
  ) {
    try {
      await parseUserSpki(spki);
      throw new Error("accepted");
    } catch (e) {
      assert(e instanceof ApiError && e.code === "bad_public_key", String(e));
    }
  }
});
