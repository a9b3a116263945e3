/**
 * Regression tests named after the PKCS#1 v1.5 forgeries they pin, on e = 3
 * keys (where a lenient parser lets anyone forge by taking cube roots,
 * Bleichenbacher 2006). Each test first proves its forged or malformed
 * signature really is what it claims (s^e mod n gives the malformed block),
 * so it cannot pass vacuously; then verifyPkcs1v15() must reject it.
 */
import { assert, assertEquals } from "./test_assert.ts";
import { fromBig, hex, icbrt, openssl, toBig } from "./test_util.ts";
import {
  importPrivateKeyPkcs8,
  type RsaPrivateKey,
  rsaPrivateRaw,
  rsaPublicRaw,
  sha256,
  signPkcs1v15,
  verifyPkcs1v15,
} from "./mod.ts";

const DER = await openssl([
  "genpkey",
  "-algorithm",
  "RSA",
  "-pkeyopt",
  "rsa_keygen_bits:2048",
  "-pkeyopt",
  "rsa_keygen_pubexp:3",
  "-outform",
  "DER",
]);
const KEY: RsaPrivateKey = importPrivateKeyPkcs8(
  await openssl(["pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-outform", "DER"], DER),
);
const PUB = KEY.publicKey;
const K = PUB.byteLength;
const MSG = new TextEncoder().encode("pay 1000 EUR to Mallory");
const H = sha256(MSG);
const SHA256_OID = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

assertEquals(hex(PUB.e), "03");

/** 00 01 FF*ff 00 ‖ t, padded on the right with `tail` to k bytes. */
function block(t: number[], ff: number, tail: number[] = []): Uint8Array {
  const em = [0x00, 0x01, ...new Array(ff).fill(0xff), 0x00, ...t, ...tail];
  assertEquals(em.length, K, "block length");
  return new Uint8Array(em);
}

/** The canonical DigestInfo for SHA-256(MSG). */
function digestInfo(): number[] {
  return [0x30, 0x31, 0x30, 0x0d, ...SHA256_OID, 0x05, 0x00, 0x04, 0x20, ...H];
}

/** Signs an arbitrary block with the private key (what a forger obtains without it, for e = 3). */
function signBlock(em: Uint8Array): Uint8Array {
  const s = rsaPrivateRaw(KEY, em);
  assertEquals(hex(rsaPublicRaw(PUB, s)), hex(em), "s^e must reproduce the malformed block");
  return s;
}

Deno.test("e = 3 control: the canonical signature verifies", () => {
  const s = signPkcs1v15(KEY, "SHA-256", MSG);
  const t = digestInfo();
  assertEquals(hex(rsaPublicRaw(PUB, s)), hex(block(t, K - 3 - t.length)));
  assert(verifyPkcs1v15(PUB, "SHA-256", MSG, s));
});

Deno.test("verifyPkcs1v15() rejects DigestInfo with trailing garbage: keyless cube-root forgery (CVE-2022-24771, Bleichenbacher'06)", () => {
  // prefix = 00 01 FF*8 00 DigestInfo; the rest is garbage the forger cannot control.
  const prefix = [0x00, 0x01, ...new Array(8).fill(0xff), 0x00, ...digestInfo()];
  const garbageBits = BigInt(8 * (K - prefix.length));
  const target = toBig(new Uint8Array(prefix)) << garbageBits;
  const s = icbrt(target) + 1n; // s^3 = target + (small) < target + 2^garbageBits
  const sig = fromBig(s, K);
  const em = rsaPublicRaw(PUB, sig);
  assertEquals(
    hex(em.subarray(0, prefix.length)),
    hex(new Uint8Array(prefix)),
    "the forgery has the right prefix",
  );
  assert(s ** 3n < toBig(PUB.n), "no modular reduction: forged without the key");
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, sig));
});

Deno.test("verifyPkcs1v15() rejects DigestInfo followed by trailing bytes inside the block (CVE-2022-24772)", () => {
  const t = [...digestInfo(), 0xde, 0xad];
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, signBlock(block(t, K - 3 - t.length))));
});

Deno.test("verifyPkcs1v15() rejects garbage inside DigestAlgorithm (CVE-2022-24772/24773)", () => {
  // AlgorithmIdentifier parameters: garbage OCTET STRING instead of NULL
  const garbage = [0x04, 0x08, 1, 2, 3, 4, 5, 6, 7, 8];
  const alg = [0x30, SHA256_OID.length + garbage.length, ...SHA256_OID, ...garbage];
  const t = [0x30, alg.length + 2 + 32, ...alg, 0x04, 0x20, ...H];
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, signBlock(block(t, K - 3 - t.length))));
  // extra element after NULL inside AlgorithmIdentifier
  const alg2 = [0x30, 0x0f, ...SHA256_OID, 0x05, 0x00, 0x05, 0x00];
  const t2 = [0x30, alg2.length + 2 + 32, ...alg2, 0x04, 0x20, ...H];
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, signBlock(block(t2, K - 3 - t2.length))));
});

Deno.test("verifyPkcs1v15() rejects BER length encodings in DigestInfo (CVE-2022-24773, jsrsasign CVE-2020-14967)", () => {
  // long-form lengths for short values: 30 81 31 ..., 04 81 20 ...
  const variants = [
    [0x30, 0x81, 0x31, 0x30, 0x0d, ...SHA256_OID, 0x05, 0x00, 0x04, 0x20, ...H],
    [0x30, 0x32, 0x30, 0x0d, ...SHA256_OID, 0x05, 0x00, 0x04, 0x81, 0x20, ...H],
    [0x30, 0x32, 0x30, 0x81, 0x0d, ...SHA256_OID, 0x05, 0x00, 0x04, 0x20, ...H],
    [0x30, 0x82, 0x00, 0x31, 0x30, 0x0d, ...SHA256_OID, 0x05, 0x00, 0x04, 0x20, ...H],
  ];
  for (const t of variants) {
    assert(
      !verifyPkcs1v15(PUB, "SHA-256", MSG, signBlock(block(t, K - 3 - t.length))),
      hex(new Uint8Array(t)),
    );
  }
});

Deno.test("verifyPkcs1v15() rejects DigestInfo without the NULL parameters (Wycheproof MissingNull)", () => {
  const t = [0x30, 0x2f, 0x30, 0x0b, ...SHA256_OID, 0x04, 0x20, ...H];
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, signBlock(block(t, K - 3 - t.length))));
});

Deno.test("verifyPkcs1v15() rejects malformed padding: short FF run, non-FF byte, block type 2", () => {
  const t = digestInfo();
  const short = [0x00, 0x01, 0xff, 0xff, 0x00, ...t];
  const shortBlock = new Uint8Array(K);
  shortBlock.set(short, K - short.length); // 00 .. 00 01 FF FF 00 DigestInfo: leading zeros instead of FFs
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, signBlock(shortBlock)), "zeros before 01");
  const withGap = block(t, K - 3 - t.length);
  withGap[20] = 0xfe;
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, signBlock(withGap)), "non-FF padding byte");
  const type2 = block(t, K - 3 - t.length);
  type2[1] = 0x02;
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, signBlock(type2)), "block type 2");
  // the hash moved left, garbage after it, still k bytes long (node-forge CVE-2022-24771 padding bypass)
  const moved = [0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, ...t];
  const movedBlock = new Uint8Array(K);
  movedBlock.set(moved);
  movedBlock.fill(0x41, moved.length);
  assert(
    !verifyPkcs1v15(PUB, "SHA-256", MSG, signBlock(movedBlock)),
    "garbage after the DigestInfo",
  );
});

Deno.test("verifyPkcs1v15() rejects a signature equal to n, above n, and s + n", () => {
  const n = PUB.n;
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, n), "s = n");
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, fromBig(toBig(n) + 1n, K)), "s = n + 1");
  const s = signPkcs1v15(KEY, "SHA-256", MSG);
  const sn = toBig(s) + toBig(n);
  if (sn < 1n << BigInt(8 * K)) {
    assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, fromBig(sn, K)), "s + n");
  }
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, new Uint8Array(K).fill(0xff)), "all ones");
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, new Uint8Array(K)), "zero");
});

Deno.test("verifyPkcs1v15() rejects leading zero bytes added to or removed from a signature (jsrsasign CVE-2021-30246, CVE-2020-14968)", () => {
  const s = signPkcs1v15(KEY, "SHA-256", MSG);
  assert(verifyPkcs1v15(PUB, "SHA-256", MSG, s));
  const longer = new Uint8Array(K + 1);
  longer.set(s, 1);
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, longer), "00 prepended");
  const longer2 = new Uint8Array(K + 8);
  longer2.set(s, 8);
  assert(!verifyPkcs1v15(PUB, "SHA-256", MSG, longer2), "8 zero bytes prepended");
  // a signature whose top byte is zero, sent without it
  for (let i = 0; i < 2000; i++) {
    const m = new TextEncoder().encode(`message ${i}`);
    const t = signPkcs1v15(KEY, "SHA-256", m);
    if (t[0] !== 0) continue;
    assert(verifyPkcs1v15(PUB, "SHA-256", m, t));
    assert(!verifyPkcs1v15(PUB, "SHA-256", m, t.subarray(1)), "leading zero stripped");
    return;
  }
  throw new Error("no signature with a zero top byte in 2000 tries");
});

Deno.test("verifyPkcs1v15() rejects the signature of another hash or message", () => {
  const s = signPkcs1v15(KEY, "SHA-256", MSG);
  assert(!verifyPkcs1v15(PUB, "SHA-1", MSG, s));
  assert(!verifyPkcs1v15(PUB, "SHA-256", new Uint8Array([...MSG, 0]), s));
});
