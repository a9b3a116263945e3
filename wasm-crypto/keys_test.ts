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
import { type CoreExports, IO_IN, IO_RAND, mem, state } from "./runtime.ts";
import { buildWasm } from "./build.ts";

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
  const slot = key._slot(), size = state().core.layout_slot_size();
  assert(mem().subarray(slot, slot + size).some((b) => b !== 0));
  key.destroy();
  // ... and nothing of it afterwards, in either byte order; the whole slot is zero, the
  // blinding pair (A = r^e, Ai = r^-1 mod p and q) kept between signatures included
  assertEquals(leaks(forms), 0);
  assert(mem().subarray(slot, slot + size).every((b) => b === 0), "the slot is not zero");
  assert(key.destroyed);
});

Deno.test("encryptOaep() leaves no plaintext, seed or block in wasm memory; WebCrypto decrypts it (2048 and 4096 bits)", async () => {
  const big = await webCryptoKey("RSA-OAEP", "SHA-256", 4096);
  const s = state();
  const realRandom = crypto.getRandomValues;
  let seed = new Uint8Array(0);
  // records the seed: OAEP encryption draws its randomness in one call
  crypto.getRandomValues = ((a: Uint8Array) => {
    realRandom.call(crypto, a);
    seed = a.slice();
    return a;
  }) as typeof crypto.getRandomValues;
  try {
    for (const pkcs8 of [web.pkcs8, big.pkcs8]) {
      const pub = importPrivateKeyPkcs8(pkcs8).publicKey;
      for (const hash of ["SHA-256", "SHA-1"] as const) {
        const hLen = hash === "SHA-256" ? 32 : 20;
        const priv = await crypto.subtle.importKey(
          "pkcs8",
          pkcs8 as Uint8Array<ArrayBuffer>,
          { name: "RSA-OAEP", hash },
          false,
          ["decrypt"],
        );
        for (const label of [new Uint8Array(0), new TextEncoder().encode("label")]) {
          const pt = crypto.getRandomValues(new Uint8Array(pub.byteLength - 2 * hLen - 2));
          mem().fill(0, s.io, s.io + s.ioSize);
          const ct = encryptOaep(pub, hash, pt, label);
          const what = `${pub.bits} bits, ${hash}, label of ${label.length} bytes`;
          assertEquals(seed.length, hLen);
          const io = mem().slice(s.io, s.io + s.ioSize);
          io.fill(0, IO_RAND, IO_RAND + pub.e.length); // e is left there: public
          assert(io.every((b) => b === 0), `IO wiped (${what})`);
          assert(!contains(mem(), seed), `no seed in memory (${what})`);
          assertEquals(leaks([pt]), 0, `no plaintext in memory (${what})`);
          const dec = await crypto.subtle.decrypt(
            { name: "RSA-OAEP", label: label as Uint8Array<ArrayBuffer> },
            priv,
            ct as Uint8Array<ArrayBuffer>,
          );
          assertEquals(hex(new Uint8Array(dec)), hex(pt), what);
        }
      }
    }
  } finally {
    crypto.getRandomValues = realRandom;
  }
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

Deno.test("70 signatures with one key equal WebCrypto's: the blinding pair drawn afresh at calls 1, 33 and 65, squared in between", async () => {
  const key = importPrivateKeyPkcs8(web.pkcs8);
  for (let i = 0; i < 70; i++) {
    const msg = crypto.getRandomValues(new Uint8Array(40));
    const want = new Uint8Array(
      await crypto.subtle.sign("RSASSA-PKCS1-v1_5", web.pair.privateKey, msg),
    );
    assertEquals(hex(signPkcs1v15(key, "SHA-256", msg)), hex(want), `signature ${i + 1}`);
  }
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

Deno.test("the baseline build's trial division (kg_candidate) equals BigInt's (2048 small primes, 65537)", async () => {
  // kg_candidate with no Miller-Rabin rounds accepts exactly the candidates (odd, top two
  // bits set) with no factor among the first 2048 odd primes and c mod 65537 != 1; only
  // the baseline build has it (the relaxed build's kg_sieve: the test further down)
  const c = await _coreOf("baseline");
  const io = c.layout_io();
  const primes = _oddPrimes(2048);
  const top = 3n << 1022n;
  const forced = (x: bigint) => (x | top | 1n) & ((1n << 1024n) - 1n);
  const want = (x: bigint) => primes.every((d) => x % d !== 0n) && x % 65537n !== 1n;
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
  for (const x0 of cases) {
    const x = forced(x0);
    new Uint8Array(c.memory.buffer).set(fromBig(x, 128), io + IO_IN);
    const got = c.kg_candidate!(0, 2048, 0) === 1;
    assertEquals(got, want(x), `candidate ${x.toString(16).slice(0, 16)}…`);
    if (got) accepted++;
  }
  c.kg_abort();
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

/**
 * Miller-Rabin (FIPS 186-5 B.3.1) for one base, the oracle of the two-lane test: w - 1 =
 * 2^a * m with m odd; w passes for base b if b^m = 1 or b^(2^j * m) = w - 1 for some j < a.
 */
function _mrPassesBig(w: bigint, b: bigint): boolean {
  let m = w - 1n, a = 0;
  while ((m & 1n) === 0n) {
    m >>= 1n;
    a++;
  }
  let z = powBig(b, m, w);
  if (z === 1n || z === w - 1n) return true;
  for (let j = 1; j < a; j++) {
    z = (z * z) % w;
    if (z === w - 1n) return true;
  }
  return false;
}

/** A prime of `bits` bits, top two bits set, with w - 1 = 2^a * odd exactly (BigInt, 40 rounds). */
function _primeWithValuation(bits: number, a: number): bigint {
  for (;;) {
    let odd = toBig(crypto.getRandomValues(new Uint8Array(bits / 8))) >> BigInt(a);
    odd |= 1n | (3n << BigInt(bits - a - 2));
    const w = (odd << BigInt(a)) + 1n;
    if ([3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n].some((d) => w % d === 0n)) continue;
    let ok = true;
    for (let r = 0; r < 40 && ok; r++) {
      ok = _mrPassesBig(w, 2n + toBig(crypto.getRandomValues(new Uint8Array(bits / 8))) % (w - 3n));
    }
    if (ok) {
      assertEquals(w >> BigInt(bits - 2), 3n);
      return w;
    }
  }
}

/** An instance of one build of its own, e.g. for an export only that build has. */
async function _coreOf(variant: "baseline" | "relaxed"): Promise<CoreExports> {
  const built = await buildWasm();
  const bytes = variant === "relaxed" ? built.relaxed.bytes : built.bytes;
  const { instance } = await WebAssembly.instantiate(new Uint8Array(bytes), {
    env: {
      abort() {
        throw new Error("core aborted");
      },
    },
  });
  const c = instance.exports as unknown as CoreExports;
  c.init();
  return c;
}

/** An instance of the relaxed build of its own (kg_sieve, kg_round2, kg_accept). */
async function _relaxedCore(): Promise<CoreExports> {
  const c = await _coreOf("relaxed");
  assertEquals(c.relaxed_ok(), 1, "the engine must fuse f64x2.relaxed_madd for this test");
  return c;
}

Deno.test("kg_sieve's trial division (two primes per pass) equals BigInt's, in both lanes", async () => {
  const c = await _relaxedCore();
  const io = c.layout_io();
  const primes = _oddPrimes(2048);
  const top = 3n << 1022n;
  const forced = (x: bigint) => (x | top | 1n) & ((1n << 1024n) - 1n);
  const want = (x: bigint) => primes.every((d) => x % d !== 0n) && x % 65537n !== 1n;
  const p = toBig(parsePkcs8(web.pkcs8).p);
  const cases: bigint[] = [p];
  // odd multiples of primes at both places of a pair (3, 5; the last two of the table)
  // and of a product of a pair, next to p
  for (const d of [primes[0], primes[1], primes[2046], primes[2047], primes[2046] * primes[2047]]) {
    let m = p - p % d;
    if (m % 2n === 0n) m -= d;
    cases.push(m);
  }
  let c1 = p - p % 65537n + 1n; // 1 mod 65537, no small factor
  if (c1 % 2n === 0n) c1 += 65537n;
  while (!primes.every((d) => c1 % d !== 0n)) c1 += 2n * 65537n;
  cases.push(c1);
  for (let i = 0; i < 300; i++) cases.push(toBig(crypto.getRandomValues(new Uint8Array(128))));
  let accepted = 0;
  for (const [i, x0] of cases.entries()) {
    const x = forced(x0), lane = i & 1;
    new Uint8Array(c.memory.buffer).set(fromBig(x, 128), io + IO_IN);
    const got = c.kg_sieve!(lane, 2048) === 1;
    assertEquals(got, want(x), `lane ${lane}, candidate ${x.toString(16).slice(0, 16)}…`);
    if (got) accepted++;
  }
  c.kg_abort();
  assert(accepted >= 2, `${accepted} candidates accepted`);
  assertEquals(cases.slice(1, 7).map((x) => want(forced(x))), [
    false,
    false,
    false,
    false,
    false,
    false,
  ]);
});

Deno.test("two-lane Miller-Rabin (relaxed build) gives BigInt's verdict in both lanes", async () => {
  const c = await _relaxedCore();
  const io = c.layout_io();
  const bits = 2048, bytes = 128;
  const put = (off: number, x: bigint) =>
    new Uint8Array(c.memory.buffer).set(fromBig(x, bytes), io + off);
  // the core's base from bytes: the top two bits cleared, 0 and 1 replaced by 2
  const baseOf = (x: bigint) => {
    const b = x & ((1n << 1022n) - 1n);
    return b < 2n ? 2n : b;
  };
  const randomBase = () => toBig(crypto.getRandomValues(new Uint8Array(bytes)));
  const cases: { w0: bigint; b0: bigint; w1: bigint; b1: bigint; what: string }[] = [];
  const run = ({ w0, b0, w1, b1, what }: (typeof cases)[number]) => {
    put(IO_IN, w0);
    assertEquals(c.kg_sieve!(0, bits), 1, `${what}: lane 0 passes trial division`);
    put(IO_IN, w1);
    assertEquals(c.kg_sieve!(1, bits), 1, `${what}: lane 1 passes trial division`);
    put(IO_RAND, b0);
    put(IO_RAND + bytes, b1);
    const got = c.kg_round2!(bits);
    const want = (_mrPassesBig(w0, baseOf(b0)) ? 1 : 0) | (_mrPassesBig(w1, baseOf(b1)) ? 2 : 0);
    assertEquals(got, want, what);
    return want;
  };

  // primes with different 2-adic valuations of w - 1 (the squarings after the
  // exponentiation differ per lane), and the primes of a WebCrypto key
  const primes = [1, 2, 5, 11].map((a) => _primeWithValuation(1024, a));
  const pk = parsePkcs8(web.pkcs8);
  primes.push(toBig(pk.p), toBig(pk.q));
  const noSmallFactor = (w: bigint) => {
    put(IO_IN, w);
    const ok = c.kg_sieve!(0, bits) === 1;
    c.kg_abort();
    return ok;
  };
  const usable = primes.filter(noSmallFactor); // w mod 65537 = 1 is rejected before Miller-Rabin
  assert(usable.length >= 4, `${usable.length} primes usable`);

  // a Carmichael number of 1024 bits: Chernick's (6k + 1)(12k + 1)(18k + 1) with all three
  // prime (k found by a search with sympy; even k, so 4 divides each factor - 1), and its
  // strong liars built by the CRT: b = c_i mod each factor P_i, c_i of odd order (b^m = 1),
  // -c_i (b^m = -1), r_i * c_i with r_i of order 4 (b^(2m) = -1, found after one squaring)
  const k =
    0x3aa125c1f0719a6137d2f6a1e1dce08e9d711ad1f06cf9768c685f8f0607d1bb8cf15518da9e69271ed7en;
  const fs = [6n * k + 1n, 12n * k + 1n, 18n * k + 1n];
  for (const f of fs) {
    for (let r = 0; r < 20; r++) assert(_mrPassesBig(f, 2n + BigInt(r)), "a factor is prime");
  }
  const carm = fs[0] * fs[1] * fs[2];
  assertEquals(carm >> 1022n, 3n, "1024 bits, top two bits set");
  assert(powBig(7n, carm - 1n, carm) === 1n, "a Fermat liar: Carmichael");
  const crt = (rs: bigint[]) => {
    let x = 0n;
    for (let i = 0; i < 3; i++) {
      const mi = carm / fs[i];
      x += rs[i] * mi * powBig(mi % fs[i], fs[i] - 2n, fs[i]);
    }
    return x % carm;
  };
  const oddOrder = (f: bigint) => {
    let t = f - 1n;
    while ((t & 1n) === 0n) t >>= 1n;
    return powBig(randomBase() % f, (f - 1n) / t, f); // x^(2^v): order divides the odd part
  };
  const order4 = (f: bigint) => {
    for (;;) {
      const r = powBig(randomBase() % f, (f - 1n) / 4n, f);
      if ((r * r) % f === f - 1n) return r;
    }
  };
  const liar = (kind: number) => {
    for (;;) {
      const b = crt(fs.map((f) => {
        const ci = oddOrder(f);
        return kind === 0 ? ci : kind === 1 ? f - ci : (order4(f) * ci) % f;
      }));
      if (b >= 2n && b < 1n << 1022n) return b;
    }
  };
  const liars = [0, 1, 2].map(liar);
  for (const b of liars) assert(_mrPassesBig(carm, b), "a strong liar");
  assert(noSmallFactor(carm), "the Carmichael number passes trial division");

  // random composites that pass trial division, and a product of two 512-bit primes
  const composites: bigint[] = [carm];
  while (composites.length < 4) {
    const w = toBig(crypto.getRandomValues(new Uint8Array(bytes))) | (3n << 1022n) | 1n;
    if (!_mrPassesBig(w, 2n) && noSmallFactor(w)) composites.push(w);
  }
  for (;;) {
    const w = _primeWithValuation(512, 1) * _primeWithValuation(512, 3);
    if (w >> 1022n === 3n && noSmallFactor(w)) {
      composites.push(w);
      break;
    }
  }

  // every pairing in both lane orders: prime/prime (different valuations), prime/composite,
  // composite/composite; random bases, and the Carmichael number with its strong liars
  for (const [i, p] of usable.entries()) {
    const q = usable[(i + 1) % usable.length];
    cases.push({ w0: p, b0: randomBase(), w1: q, b1: randomBase(), what: `primes ${i}, ${i + 1}` });
  }
  for (const [i, w] of composites.entries()) {
    const p = usable[i % usable.length];
    cases.push({
      w0: w,
      b0: randomBase(),
      w1: p,
      b1: randomBase(),
      what: `composite ${i} | prime`,
    });
    cases.push({
      w0: p,
      b0: randomBase(),
      w1: w,
      b1: randomBase(),
      what: `prime | composite ${i}`,
    });
    const v = composites[(i + 1) % composites.length];
    cases.push({
      w0: w,
      b0: randomBase(),
      w1: v,
      b1: randomBase(),
      what: `composites ${i}, ${i + 1}`,
    });
  }
  for (const [j, b] of liars.entries()) {
    cases.push({
      w0: carm,
      b0: b,
      w1: composites[1],
      b1: randomBase(),
      what: `liar ${j} | composite`,
    });
    cases.push({ w0: usable[j], b0: randomBase(), w1: carm, b1: b, what: `prime | liar ${j}` });
    cases.push({ w0: carm, b0: b, w1: carm, b1: randomBase(), what: `liar ${j} | Carmichael` });
  }
  cases.push({ w0: carm, b0: 1n, w1: usable[0], b1: 0n, what: "bases 0 and 1 become 2" });
  const verdicts = cases.map(run);
  c.kg_abort();
  assert(new Uint8Array(c.memory.buffer, c.layout_kg(), 1024).every((x) => x === 0), "lanes wiped");
  // the cases cover both verdicts in both lanes
  for (const bit of [1, 2]) {
    assert(verdicts.some((v) => (v & bit) !== 0), `a pass in lane ${bit >> 1}`);
    assert(verdicts.some((v) => (v & bit) === 0), `a failure in lane ${bit >> 1}`);
  }
});
