import { assert, assertCode, assertEquals } from "./test_assert.ts";
import {
  contains,
  fromBig,
  hex,
  openssl,
  powBig,
  slowTest,
  toBig,
  unbalancedKey,
  webCryptoKey,
} from "./test_util.ts";
import { encodePkcs8, encodeSpki, parsePkcs8, type RsaPrivateComponents } from "./der.ts";
import {
  decryptOaep,
  encryptOaep,
  generateRsaKey,
  importPrivateKeyPkcs8,
  importPublicKeySpki,
  rsaPrivateRaw,
  rsaPublicRaw,
  signPkcs1v15,
  signPss,
  verifyPkcs1v15,
} from "./mod.ts";
import { IO_IN, mem, state, writeIo } from "./runtime.ts";

const web = await webCryptoKey("RSASSA-PKCS1-v1_5");
const MSG = new TextEncoder().encode("message");

/** Every secret component of a PKCS#8 key, big-endian and as little-endian limbs (byte-reversed). */
function secretForms(pkcs8: Uint8Array): Uint8Array[] {
  const c = parsePkcs8(pkcs8);
  const out: Uint8Array[] = [];
  for (const x of [c.d, c.p, c.q, c.dP, c.dQ, c.qInv]) {
    const be = x.slice();
    out.push(be, be.slice().reverse());
  }
  return out;
}

/** Any 24-byte window of a secret found in the core's memory. */
function leaks(forms: Uint8Array[]): number {
  const memory = mem();
  let found = 0;
  for (const f of forms) {
    for (let i = 0; i + 24 <= f.length; i += 24) {
      if (contains(memory, f.subarray(i, i + 24))) found++;
    }
  }
  return found;
}

Deno.test("destroy() leaves no key bytes in wasm memory", () => {
  const forms = secretForms(web.pkcs8);
  const key = importPrivateKeyPkcs8(web.pkcs8);
  signPkcs1v15(key, "SHA-256", MSG);
  decryptOaep(key, "SHA-256", encryptOaep(key.publicKey, "SHA-256", MSG));
  const exported = key.exportPkcs8();
  exported.fill(0);
  // the search does find the key while it is alive (so the test can fail) ...
  assert(leaks(forms) >= 6, "the live key should be found in memory");
  key.destroy();
  // ... and nothing of it afterwards, in either byte order
  assertEquals(leaks(forms), 0);
  assert(key.destroyed);
});

Deno.test("a generated key's bytes are gone from wasm memory after destroy()", () => {
  const key = generateRsaKey(2048);
  const pkcs8 = key.exportPkcs8();
  const forms = secretForms(pkcs8);
  pkcs8.fill(0);
  assert(leaks(forms) >= 6);
  key.destroy();
  assertEquals(leaks(forms), 0);
});

Deno.test("a destroyed key throws key_destroyed; destroy() twice is harmless", () => {
  const key = importPrivateKeyPkcs8(web.pkcs8);
  key.destroy();
  key.destroy();
  assertCode(() => signPkcs1v15(key, "SHA-256", MSG), "key_destroyed");
  assertCode(() => signPss(key, "SHA-256", MSG), "key_destroyed");
  assertCode(() => key.exportPkcs8(), "key_destroyed");
  assertCode(() => decryptOaep(key, "SHA-256", new Uint8Array(256)), "key_destroyed");
  // the public half stays usable
  assert(key.publicKey.exportSpki().length > 256);
});

Deno.test("key slots are reused after destroy() (no growth per key)", () => {
  const before = state().slotCount;
  for (let i = 0; i < 20; i++) importPrivateKeyPkcs8(web.pkcs8).destroy();
  assert(state().slotCount <= before + 1, `slot count grew from ${before} to ${state().slotCount}`);
});

function withComponent(mutate: (c: RsaPrivateComponents) => void): Uint8Array {
  const c = parsePkcs8(web.pkcs8);
  const copy = Object.fromEntries(
    Object.entries(c).map(([k, v]) => [k, v.slice()]),
  ) as unknown as RsaPrivateComponents;
  mutate(copy);
  return encodePkcs8(copy);
}

function plusOne(x: Uint8Array): Uint8Array {
  return fromBig(toBig(x) + 1n, x.length + (x.every((b) => b === 0xff) ? 1 : 0));
}

Deno.test("importPrivateKeyPkcs8() rejects inconsistent keys with invalid_key", () => {
  const cases: [string, (c: RsaPrivateComponents) => void][] = [
    ["p changed", (c) => c.p = plusOne(plusOne(c.p))],
    ["q changed", (c) => c.q = plusOne(plusOne(c.q))],
    ["d changed", (c) => c.d = plusOne(plusOne(c.d))],
    ["dP changed", (c) => c.dP = plusOne(plusOne(c.dP))],
    ["dQ changed", (c) => c.dQ = plusOne(plusOne(c.dQ))],
    ["qInv changed", (c) => c.qInv = plusOne(c.qInv)],
    ["e changed", (c) => c.e = new Uint8Array([1, 0, 3])],
    ["p and q swapped (qInv no longer fits)", (c) => [c.p, c.q] = [c.q, c.p]],
    ["p = 1", (c) => c.p = new Uint8Array([1])],
  ];
  for (const [what, mutate] of cases) {
    assertCode(() => importPrivateKeyPkcs8(withComponent(mutate)), "invalid_key", what);
  }
  assertCode(
    () => importPrivateKeyPkcs8(withComponent((c) => c.n[c.n.length - 1] ^= 1)),
    "invalid_key",
    "even n",
  );
  // a consistent key with p and q swapped (recomputed CRT values) is accepted
  const c = parsePkcs8(web.pkcs8);
  const [p, q, d] = [toBig(c.p), toBig(c.q), toBig(c.d)];
  const inv = (a: bigint, m: bigint) => {
    let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
    while (r1 !== 0n) {
      const t = r0 / r1;
      [r0, r1] = [r1, r0 - t * r1];
      [s0, s1] = [s1, s0 - t * s1];
    }
    return ((s0 % m) + m) % m;
  };
  const strip = (x: bigint) => fromBig(x, Math.ceil(x.toString(16).length / 2));
  const swapped = encodePkcs8({
    n: c.n,
    e: c.e,
    d: c.d,
    p: c.q,
    q: c.p,
    dP: strip(d % (q - 1n)),
    dQ: strip(d % (p - 1n)),
    qInv: strip(inv(p, q)),
  });
  const key = importPrivateKeyPkcs8(swapped);
  assertEquals(
    hex(signPkcs1v15(key, "SHA-256", MSG)),
    hex(signPkcs1v15(importPrivateKeyPkcs8(web.pkcs8), "SHA-256", MSG)),
  );
  key.destroy();
});

Deno.test("key size limits: 1024-bit keys are too small, 2048..4096 accepted", async () => {
  const small = await webCryptoKey("RSASSA-PKCS1-v1_5", "SHA-256", 1024);
  assertCode(() => importPrivateKeyPkcs8(small.pkcs8), "key_too_small");
  assertCode(() => importPublicKeySpki(small.spki), "key_too_small");
  const c = parsePkcs8(web.pkcs8);
  const big = new Uint8Array(513).fill(0xff);
  assertCode(() => importPublicKeySpki(encodeSpki({ n: big, e: c.e })), "key_too_large");
  const even = c.n.slice();
  even[even.length - 1] &= 0xfe;
  assertCode(() => importPublicKeySpki(encodeSpki({ n: even, e: c.e })), "invalid_key");
  assertCode(
    () => importPublicKeySpki(encodeSpki({ n: c.n, e: new Uint8Array([1]) })),
    "invalid_key",
  );
  assertCode(
    () => importPublicKeySpki(encodeSpki({ n: c.n, e: new Uint8Array([1, 0, 0]) })),
    "invalid_key",
  );
  assertCode(
    () => importPublicKeySpki(encodeSpki({ n: c.n, e: new Uint8Array([3, 0, 0, 0, 1]) })),
    "unsupported_key",
  );
  // deno-lint-ignore no-explicit-any
  assertCode(() => generateRsaKey(1024 as any), "unsupported_key_size");
});

Deno.test("bad arguments get typed errors: hash, lengths, ranges, salt", () => {
  const key = importPrivateKeyPkcs8(web.pkcs8);
  const pub = key.publicKey;
  // deno-lint-ignore no-explicit-any
  assertCode(() => signPkcs1v15(key, "SHA-512" as any, MSG), "unsupported_hash");
  // deno-lint-ignore no-explicit-any
  assertCode(() => verifyPkcs1v15(pub, "MD5" as any, MSG, new Uint8Array(256)), "unsupported_hash");
  // deno-lint-ignore no-explicit-any
  assertCode(() => signPkcs1v15(key, "SHA-256", "text" as any), "invalid_argument");
  // deno-lint-ignore no-explicit-any
  assertCode(() => signPkcs1v15(pub as any, "SHA-256", MSG), "invalid_argument");
  assertCode(() => signPss(key, "SHA-256", MSG, 256), "invalid_salt_length");
  assertCode(() => signPss(key, "SHA-256", MSG, -1), "invalid_salt_length");
  assertCode(
    () => encryptOaep(pub, "SHA-256", new Uint8Array(256 - 2 * 32 - 1)),
    "message_too_long",
  );
  assertCode(() => decryptOaep(key, "SHA-256", new Uint8Array(255)), "decryption_failed");
  assertCode(() => decryptOaep(key, "SHA-256", pub.n), "decryption_failed");
  assertCode(() => rsaPrivateRaw(key, pub.n), "out_of_range");
  assertCode(() => rsaPublicRaw(pub, new Uint8Array(256).fill(0xff)), "out_of_range");
  assertCode(() => rsaPublicRaw(pub, new Uint8Array(255)), "out_of_range");
  assert(!verifyPkcs1v15(pub, "SHA-256", MSG, new Uint8Array(10)));
  key.destroy();
});

Deno.test("a fault in the key is caught by the e check and no result is released", () => {
  const key = importPrivateKeyPkcs8(web.pkcs8);
  const s = state();
  const ctx = s.core.layout_ctx_size();
  // slot layout (assembly/rsa.ts): ctx n at 64, ctx p, ctx q, e, d, dP ...
  const dP = key._slot() + s.core.layout_slot_ctx_n() + 3 * ctx + 2 * 512;
  mem()[dP + 5] ^= 0x10; // a Bellcore-style fault in dP
  assertCode(() => signPkcs1v15(key, "SHA-256", MSG), "fault_detected");
  const out = mem().subarray(s.io + 4096, s.io + 4096 + 256);
  assert(out.every((b) => b === 0), "the faulty result must not be left in memory");
  mem()[dP + 5] ^= 0x10;
  assert(verifyPkcs1v15(key.publicKey, "SHA-256", MSG, signPkcs1v15(key, "SHA-256", MSG)));
  key.destroy();
});

Deno.test("an interrupted key generation wipes its primes and can start again", () => {
  const kg = state().core.layout_kg();
  let sawPrime = false;
  let threw = false;
  try {
    generateRsaKey(2048, {
      onProgress(f) {
        if (f < 0.5) return;
        // p has been found and is held in the core between calls
        sawPrime = mem().subarray(kg, kg + 128).some((b) => b !== 0);
        throw new Error("cancelled by the user");
      },
    });
  } catch (e) {
    threw = (e as Error).message === "cancelled by the user";
  }
  assert(threw && sawPrime, "the callback saw p in memory and cancelled");
  assert(mem().subarray(kg, kg + 1024).every((b) => b === 0), "p and q wiped");
  generateRsaKey(2048).destroy();
});

/** The first `count` odd primes (the core's trial-division table). */
function _oddPrimes(count: number): bigint[] {
  const out: bigint[] = [];
  for (let n = 3; out.length < count; n += 2) {
    if (out.every((p) => n % Number(p) !== 0 || Number(p) * Number(p) > n)) out.push(BigInt(n));
  }
  return out;
}

Deno.test("trial division of a key-generation candidate equals BigInt's (2048 small primes, 65537)", () => {
  // kg_candidate with no Miller-Rabin rounds accepts exactly the candidates (odd, top two
  // bits set) with no factor among the first 2048 odd primes and c mod 65537 != 1
  const primes = _oddPrimes(2048);
  const core = state().core;
  const top = 3n << 1022n;
  const forced = (c: bigint) => (c | top | 1n) & ((1n << 1024n) - 1n);
  const want = (c: bigint) => primes.every((d) => c % d !== 0n) && c % 65537n !== 1n;
  const cases: bigint[] = [];
  const p = toBig(parsePkcs8(web.pkcs8).p);
  cases.push(p); // a prime: accepted
  // an odd multiple of the largest table prime next to p: rejected by its last division
  const dMax = primes[primes.length - 1];
  let m = p - p % dMax;
  if (m % 2n === 0n) m -= dMax;
  cases.push(m);
  // odd, no small factor, but 1 mod 65537 (gcd(c - 1, e) != 1): rejected
  let c1 = p - p % 65537n + 1n;
  if (c1 % 2n === 0n) c1 += 65537n;
  while (!primes.every((d) => c1 % d !== 0n)) c1 += 2n * 65537n;
  cases.push(c1);
  // random candidates: most have a small factor
  for (let i = 0; i < 200; i++) cases.push(toBig(crypto.getRandomValues(new Uint8Array(128))));
  let accepted = 0;
  for (const c of cases) {
    const x = forced(c);
    writeIo(IO_IN, fromBig(x, 128));
    const got = core.kg_candidate(0, 2048, 0) === 1;
    assertEquals(got, want(x), `candidate ${x.toString(16).slice(0, 16)}…`);
    if (got) accepted++;
  }
  core.kg_abort();
  assert(accepted >= 2, `${accepted} candidates accepted`);
});

Deno.test("generateRsaKey() refuses to run inside its own progress callback", () => {
  let code = "";
  generateRsaKey(2048, {
    onProgress() {
      if (code) return;
      try {
        generateRsaKey(2048);
        code = "no error";
      } catch (e) {
        code = (e as { code: string }).code;
      }
    },
  }).destroy();
  assertEquals(code, "invalid_argument");
});

async function checkGenerated(bits: 2048 | 3072 | 4096): Promise<void> {
  const key = generateRsaKey(bits);
  assertEquals(key.bits, bits);
  assertEquals(hex(key.publicKey.e), "010001");
  const pkcs8 = key.exportPkcs8();
  const c = parsePkcs8(pkcs8);
  const [n, e, d, p, q] = [c.n, c.e, c.d, c.p, c.q].map(toBig);
  assertEquals(n.toString(2).length, bits);
  assertEquals(p * q, n);
  const half = BigInt(bits / 2);
  assertEquals(p.toString(2).length, bits / 2);
  assertEquals(q.toString(2).length, bits / 2);
  // FIPS 186-5 B.3.1 / B.3.3 criteria
  const diff = p > q ? p - q : q - p;
  assert(diff > 1n << (half - 100n), "|p - q| > 2^(nlen/2 - 100)");
  assert(d > 1n << half, "d > 2^(nlen/2)");
  const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  assert(d < lambda, "d < lcm(p-1, q-1)");
  assertEquals((e * d) % lambda, 1n);
  assertEquals(toBig(c.dP), d % (p - 1n));
  assertEquals(toBig(c.dQ), d % (q - 1n));
  assertEquals((toBig(c.qInv) * q) % p, 1n);
  // primality by an independent implementation
  for (const x of [p, q]) {
    const out = new TextDecoder().decode(await openssl(["prime", "-hex", x.toString(16)]));
    assert(out.includes("is prime"), `openssl: ${out}`);
  }
  // WebCrypto accepts and agrees
  const priv = await crypto.subtle.importKey(
    "pkcs8",
    pkcs8 as Uint8Array<ArrayBuffer>,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["sign"],
  );
  pkcs8.fill(0);
  const theirs = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", priv, MSG));
  assertEquals(hex(signPkcs1v15(key, "SHA-256", MSG)), hex(theirs));
  key.destroy();
}

Deno.test("generateRsaKey(2048) meets FIPS 186-5: primes (per openssl), |p - q|, d, CRT values", async () => {
  await checkGenerated(2048);
});

slowTest(
  "generateRsaKey(3072) and generateRsaKey(4096) meet FIPS 186-5 and work in WebCrypto",
  async () => {
    await checkGenerated(3072);
    await checkGenerated(4096);
  },
);

slowTest("ten more 2048-bit keys meet FIPS 186-5", async () => {
  for (let i = 0; i < 10; i++) await checkGenerated(2048);
});

Deno.test("primes of different limb counts take the general CRT path and sign correctly", async () => {
  const { pkcs8, n, d } = await unbalancedKey();
  const key = importPrivateKeyPkcs8(pkcs8);
  const k = key.publicKey.byteLength;
  for (let i = 0; i < 4; i++) {
    const x = crypto.getRandomValues(new Uint8Array(k));
    x[0] = 0;
    assertEquals(hex(rsaPrivateRaw(key, x)), hex(fromBig(powBig(toBig(x), d, n), k)));
  }
  key.destroy();
});
