import { assertCode, assertEquals } from "./test_assert.ts";
import { fromBig, hex, powBig, randomBytes, randomInt, slowTest, toBig } from "./test_util.ts";
import { modPow, modPowVarTime, RsaPublicKey, rsaPublicRaw } from "./mod.ts";
import { coreVariant, IO_IN, IO_OUT, IO_RAND, readIo, state, writeIo } from "./runtime.ts";

function randomOdd(len: number): Uint8Array {
  const m = randomBytes(len);
  m[0] |= 0x80 >> randomInt(0, 7); // some top bit set, not always the highest
  m[len - 1] |= 1;
  if (len === 1 && m[0] < 3) m[0] = 3;
  return m;
}

function check(base: Uint8Array, exp: Uint8Array, mod: Uint8Array, label: string): void {
  const want = hex(fromBig(powBig(toBig(base), toBig(exp), toBig(mod)), mod.length));
  assertEquals(hex(modPow(base, exp, mod)), want, `modPow ${label}`);
  assertEquals(hex(modPowVarTime(base, exp, mod)), want, `modPowVarTime ${label}`);
}

Deno.test("modPow() equals BigInt for random sizes up to 4096 bits", () => {
  const lens = [1, 2, 3, 4, 5, 8, 31, 32, 33, 64, 127, 128, 129, 256, 384, 512];
  for (let i = 0; i < 24; i++) lens.push(randomInt(1, i < 20 ? 256 : 512));
  for (const len of lens) {
    const mod = randomOdd(len);
    const base = randomBytes(randomInt(0, len + 8));
    const exp = randomBytes(randomInt(0, Math.min(len, 256)));
    check(base, exp, mod, `${len} bytes`);
  }
});

Deno.test("modPow() handles edge values: 0, 1, n-1, exponent 0, base >= n", () => {
  for (const len of [1, 16, 256, 512]) {
    const mod = randomOdd(len);
    const n = toBig(mod);
    const exp = randomBytes(len);
    for (const b of [0n, 1n, 2n, n - 1n, n, n + 1n, 2n * n - 1n]) {
      const base = fromBig(b, len + 1);
      check(base, exp, mod, `base ${b === n - 1n ? "n-1" : b} (${len} bytes)`);
      check(base, new Uint8Array(0), mod, `exponent empty (${len} bytes)`);
      check(base, new Uint8Array([0, 0]), mod, `exponent 0 (${len} bytes)`);
      check(base, new Uint8Array([1]), mod, `exponent 1 (${len} bytes)`);
    }
    // n-1 squared is 1
    assertEquals(toBig(modPow(fromBig(n - 1n, len), new Uint8Array([2]), mod)), 1n);
  }
});

Deno.test("modPow() result has the modulus's byte length, leading zero bytes included", () => {
  const mod = new Uint8Array([0, 0, 0x0b]); // 11
  assertEquals(hex(modPow(new Uint8Array([3]), new Uint8Array([5]), mod)), "000001"); // 243 mod 11 = 1
});

Deno.test("modPow() rejects an even modulus, a modulus below 3 and oversized inputs", () => {
  const one = new Uint8Array([1]);
  assertCode(() => modPow(one, one, new Uint8Array([0x10, 0x00])), "even_modulus");
  assertCode(() => modPow(one, one, new Uint8Array([1])), "modulus_too_small");
  assertCode(() => modPow(one, one, new Uint8Array([0, 0])), "modulus_too_small");
  assertCode(() => modPow(one, one, new Uint8Array(0)), "modulus_too_small");
  assertCode(() => modPow(one, one, randomOdd(513)), "too_large");
  assertCode(() => modPow(one, randomOdd(513), randomOdd(64)), "too_large");
  assertCode(() => modPow(randomOdd(1025), one, randomOdd(64)), "too_large");
  // deno-lint-ignore no-explicit-any
  assertCode(() => modPow([1] as any, one, one), "invalid_argument");
});

slowTest("modPow() equals BigInt for 200 random full-size cases", () => {
  for (let i = 0; i < 200; i++) {
    const len = randomInt(1, 512);
    check(
      randomBytes(randomInt(0, 2 * len)),
      randomBytes(randomInt(0, len)),
      randomOdd(len),
      `#${i}`,
    );
  }
});

/** BigInt modular inverse (extended Euclid), null when gcd != 1. */
function invBig(a: bigint, m: bigint): bigint | null {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const t = r0 / r1;
    [r0, r1] = [r1, r0 - t * r1];
    [s0, s1] = [s1, s0 - t * s1];
  }
  return r0 === 1n ? ((s0 % m) + m) % m : null;
}

function checkInverse(len: number, rounds: number): void {
  const core = state().core;
  for (let i = 0; i < rounds; i++) {
    const m = randomOdd(len);
    const mb = toBig(m);
    let x = toBig(randomBytes(len)) % mb;
    if (i === 0) x = 1n;
    if (i === 1) x = mb - 1n;
    if (i === 2) x = 0n;
    if (i === 3 && mb > 9n) x = 3n * (mb / 3n) === mb ? 3n : 2n; // not invertible when 3 | m
    writeIo(IO_IN, fromBig(x, len));
    writeIo(IO_RAND, m);
    const ok = core.mod_inv_vartime_for_tests(len);
    const want = invBig(x, mb);
    assertEquals(ok === 1, want !== null, `invertibility, ${len} bytes, x = ${x}`);
    if (want !== null) assertEquals(toBig(readIo(IO_OUT, len)), want, `inverse, ${len} bytes`);
  }
}

Deno.test("the blinding inversion (variable time) equals BigInt's inverse, including non-invertible values", () => {
  for (const len of [1, 2, 3, 4, 7, 8, 9, 16, 31, 32, 33, 64, 128, 255, 256, 384, 512]) {
    checkInverse(len, 12);
  }
});

slowTest("the blinding inversion equals BigInt's for 3000 random cases", () => {
  for (let i = 0; i < 100; i++) checkInverse(randomInt(1, 512), 30);
});

Deno.test("the public-key operation equals BigInt for every limb count of 2048..4096-bit moduli", () => {
  // montPowPublic enters with the per-key constant C3 and leaves by one reduction with
  // the unscaled modulus; its digit bounds depend on the limb count k (L = kd + 2 when
  // 32k is a multiple of 28, i.e. k a multiple of 7, else kd + 1): every k, both e.
  for (let k = 64; k <= 128; k++) {
    const bits = Math.max(2048, 32 * k - randomInt(0, 31));
    const len = Math.ceil(bits / 8);
    const n = randomBytes(len);
    const top = bits - 8 * (len - 1); // bits used in the first byte, 1..8
    n[0] = (n[0] & ((1 << top) - 1)) | (1 << (top - 1));
    n[len - 1] |= 1;
    for (const e of [3n, 65537n]) {
      const pub = new RsaPublicKey(n, fromBig(e, e === 3n ? 1 : 3));
      const nb = toBig(n);
      for (const x of [0n, 1n, nb - 1n, toBig(randomBytes(len)) % nb]) {
        assertEquals(
          hex(rsaPublicRaw(pub, fromBig(x, len))),
          hex(fromBig(powBig(x, e, nb), len)),
          `${bits} bits (k = ${k}), e = ${e}, x = ${x === nb - 1n ? "n - 1" : x}`,
        );
      }
    }
  }
});

Deno.test("the public operation equals BigInt for odd, even and unit exponents (the relaxed core's folded exit)", () => {
  // An odd exponent's last multiplication takes x's plain digits, which leaves x^e
  // itself and skips the exit's multiplication by 1; an even exponent (last step a
  // squaring) and e = 1 (no step) keep that multiplication. RSA keys only have odd
  // e >= 3, so the core is called directly with the context a key left in place.
  assertEquals(coreVariant(), "relaxed"); // the single-lane FMA kernel runs RSA-2048's n
  for (let t = 0; t < 3; t++) {
    const len = 256;
    const n = randomBytes(len);
    n[0] |= 0x80;
    n[len - 1] |= 1;
    const nb = toBig(n);
    const pub = new RsaPublicKey(n, fromBig(3n, 1));
    const core = state().core;
    for (const e of [1n, 2n, 3n, 4n, 5n, 6n, 65536n, 65537n, (1n << 32n) + 1n, 1n << 32n]) {
      const eLen = Math.ceil(e.toString(2).length / 8);
      for (const x of [0n, 1n, 2n, nb - 1n, toBig(randomBytes(len)) % nb]) {
        rsaPublicRaw(pub, fromBig(1n, len)); // puts this key's context in place
        writeIo(IO_IN, fromBig(x, len));
        writeIo(IO_RAND, fromBig(e, eLen));
        assertEquals(core.rsa_public(len, eLen), 0);
        assertEquals(
          hex(readIo(IO_OUT, len)),
          hex(fromBig(powBig(x, e, nb), len)),
          `e = ${e}, x = ${x === nb - 1n ? "n - 1" : x}`,
        );
      }
    }
  }
});
