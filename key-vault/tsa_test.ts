import { assertEquals, assertOk, assertRejects } from "../tests/fixtures/assert.ts";
import { createCa, loadCa } from "./ca.ts";
import { createTsa, issueTimestamp, loadTsa } from "./tsa.ts";

Deno.test("the TSA signs in wasm-crypto, with its own certificate only", async (t) => {
  const madeCa = await createCa();
  const ca = await loadCa(madeCa.pkcs8, madeCa.pem);
  const made = await createTsa(ca);
  await t.step("a certificate for another key is refused", async () => {
    const err = await assertRejects(() => loadTsa(made.pkcs8, madeCa.pem));
    assertOk(/not for the TSA key/.test(err.message), err.message);
  });
  const tsa = await loadTsa(made.pkcs8, made.pem);
  made.pkcs8.fill(0);
  madeCa.pkcs8.fill(0);
  await t.step("the key is not in Deno's WebCrypto; a token comes out", async () => {
    // Any signed-in user can have it sign: not Deno's RSA (not constant time, tsa.ts).
    assertOk(!(tsa.privateKey instanceof CryptoKey), "the TSA key is a WebCrypto CryptoKey");
    const imprint = crypto.getRandomValues(new Uint8Array(32));
    const { token, serial } = await issueTimestamp(tsa, imprint, new Date());
    assertEquals(serial.length, 16);
    assertOk(token.length > 1000 && token[0] === 0x30, "a DER ContentInfo");
  });
  tsa.privateKey.destroy();
});
