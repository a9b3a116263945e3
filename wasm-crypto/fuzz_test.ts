/**
 * Bad input never traps, hangs or escapes as anything but a WasmCryptoError:
 * random mutations of valid keys, random signatures and ciphertexts, random
 * modPow operands.
 */
import { assert, assertEquals } from "./test_assert.ts";
import { randomBytes, randomInt, slowTest, webCryptoKey } from "./test_util.ts";
import {
  decryptOaep,
  importPrivateKeyPkcs8,
  importPublicKeySpki,
  modPow,
  signPkcs1v15,
  verifyPkcs1v15,
  verifyPss,
  WasmCryptoError,
} from "./mod.ts";

const web = await webCryptoKey("RSASSA-PKCS1-v1_5");

function mutate(der: Uint8Array): Uint8Array {
  const b = der.slice();
  switch (randomInt(0, 4)) {
    case 0: { // flip bits in 1..4 bytes, biased towards the headers
      for (let i = randomInt(1, 4); i > 0; i--) {
        const at = Math.random() < 0.5
          ? randomInt(0, Math.min(40, b.length - 1))
          : randomInt(0, b.length - 1);
        b[at] ^= 1 << randomInt(0, 7);
      }
      return b;
    }
    case 1:
      return b.subarray(0, randomInt(0, b.length - 1));
    case 2: { // insert random bytes
      const at = randomInt(0, b.length);
      const ins = randomBytes(randomInt(1, 4));
      return new Uint8Array([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
    }
    case 3: { // delete a few bytes
      const at = randomInt(0, b.length - 1);
      return new Uint8Array([...b.subarray(0, at), ...b.subarray(at + randomInt(1, 3))]);
    }
    default: { // a random byte set to a boundary value
      b[randomInt(0, b.length - 1)] = [0x00, 0x7f, 0x80, 0x81, 0x82, 0xff][randomInt(0, 5)];
      return b;
    }
  }
}

function expectTyped(f: () => unknown, what: string): unknown {
  try {
    return f();
  } catch (e) {
    if (e instanceof WasmCryptoError) return e;
    throw new Error(`${what}: untyped error ${e}`);
  }
}

function fuzzKeys(rounds: number): void {
  const msg = new Uint8Array([1, 2, 3]);
  const reference = signPkcs1v15(importPrivateKeyPkcs8(web.pkcs8), "SHA-256", msg);
  let accepted = 0;
  for (let i = 0; i < rounds; i++) {
    const der = mutate(web.pkcs8);
    const key = expectTyped(() => importPrivateKeyPkcs8(der), "PKCS#8");
    if (!(key instanceof WasmCryptoError)) {
      // a mutation that survives every check must still be a working key
      accepted++;
      const k = key as ReturnType<typeof importPrivateKeyPkcs8>;
      const sig = signPkcs1v15(k, "SHA-256", msg);
      assert(verifyPkcs1v15(k.publicKey, "SHA-256", msg, sig));
      k.destroy();
    }
    const spki = mutate(web.spki);
    const pub = expectTyped(() => importPublicKeySpki(spki), "SPKI");
    if (!(pub instanceof WasmCryptoError)) {
      expectTyped(
        () =>
          verifyPkcs1v15(pub as ReturnType<typeof importPublicKeySpki>, "SHA-256", msg, reference),
        "verify",
      );
    }
  }
  assert(accepted < rounds / 10, `${accepted} of ${rounds} mutated keys were accepted`);
}

function fuzzSignatures(rounds: number): void {
  const key = importPrivateKeyPkcs8(web.pkcs8);
  const pub = key.publicKey;
  const msg = new Uint8Array([1, 2, 3]);
  for (let i = 0; i < rounds; i++) {
    const len = Math.random() < 0.7 ? 256 : randomInt(0, 600);
    const sig = randomBytes(len);
    assertEquals(verifyPkcs1v15(pub, "SHA-256", msg, sig), false);
    assertEquals(verifyPss(pub, "SHA-256", msg, sig, randomInt(0, 300)), false);
    const e = expectTyped(
      () => decryptOaep(key, i % 2 ? "SHA-1" : "SHA-256", sig, randomBytes(randomInt(0, 3))),
      "OAEP",
    );
    assert(e instanceof WasmCryptoError && e.code === "decryption_failed", `OAEP gave ${e}`);
  }
  key.destroy();
}

function fuzzModPow(rounds: number): void {
  for (let i = 0; i < rounds; i++) {
    const m = randomBytes(randomInt(0, 520));
    const r = expectTyped(
      () => modPow(randomBytes(randomInt(0, 1030)), randomBytes(randomInt(0, 520)), m),
      "modPow",
    );
    if (r instanceof Uint8Array) assertEquals(r.length, m.length);
  }
}

Deno.test("mutated PKCS#8 and SPKI keys give typed errors or working keys, never a trap", () =>
  fuzzKeys(300));
Deno.test("random signatures and ciphertexts are rejected cleanly", () => fuzzSignatures(100));
Deno.test("random modPow operands give a result of the modulus's length or a typed error", () =>
  fuzzModPow(60));
slowTest("fuzzing: 5000 key mutations, 1000 signatures, 500 modPow operands", () => {
  fuzzKeys(5000);
  fuzzSignatures(1000);
  fuzzModPow(500);
});
