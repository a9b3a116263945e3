/**
 * Timing check (dudect style, as bench/dudect.ts, whose Welch t-test it uses) of the relaxed
 * build's two-lane Miller-Rabin round, `kg_round2`, with a SECRET prime in lane 0: the fixed
 * class is one prime, the random class one of 64 other primes; all have w - 1 = 2 * odd, so
 * the leak by design (the 2-adic valuation of w - 1: the number of squarings after the
 * exponentiation) is equal in both classes. Lane 1 holds one fixed public composite; the
 * bases are fixed. One operation: kg_sieve of both lanes (full trial division of a prime),
 * then kg_round2. With `control A`, the random class's primes have w - 1 = 2^A * odd instead:
 * A - 1 squarings more, which the check must flag once they are large enough to see.
 *
 *   deno run -A tools/wasm-crypto/keygen_dudect.ts RELAXED.wasm [samples] [control A]
 *
 * @module
 */
import { dudectT, type LabelledSample } from "../../bench/stats.ts";

type Core = Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };

const T_THRESHOLD = 4.5;

function toBig(b: Uint8Array): bigint {
  return BigInt("0x" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""));
}

function fromBig(x: bigint, len: number): Uint8Array {
  const o = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    o[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return o;
}

function powBig(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = r * b % m;
    b = b * b % m;
    e >>= 1n;
  }
  return r;
}

const SMALL: bigint[] = [];
for (let n = 3; SMALL.length < 2048; n += 2) {
  if (SMALL.every((p) => n % Number(p) !== 0 || Number(p) ** 2 > n)) SMALL.push(BigInt(n));
}

/** Passes the core's trial division (2048 odd primes, w mod 65537 != 1). */
function sieved(w: bigint): boolean {
  return !SMALL.some((d) => w % d === 0n) && w % 65537n !== 1n;
}

function millerRabin(w: bigint, b: bigint): boolean {
  let m = w - 1n, a = 0;
  while (!(m & 1n)) {
    m >>= 1n;
    a++;
  }
  let z = powBig(b, m, w);
  if (z === 1n || z === w - 1n) return true;
  for (let j = 1; j < a; j++) {
    z = z * z % w;
    if (z === w - 1n) return true;
  }
  return false;
}

/** A 1024-bit prime, top two bits set, w - 1 = 2^a * odd. */
function prime(a: number): bigint {
  for (;;) {
    let w = toBig(crypto.getRandomValues(new Uint8Array(128))) | (3n << 1022n);
    w = (w & ~((1n << BigInt(a + 1)) - 1n)) | (1n << BigInt(a)) | 1n;
    if (!sieved(w)) continue;
    let ok = true;
    for (let r = 0; r < 20 && ok; r++) ok = millerRabin(w, 2n + BigInt(r));
    if (ok) return w;
  }
}

if (import.meta.main) {
  const file = Deno.args[0];
  if (!file) throw new Error("usage: keygen_dudect.ts RELAXED.wasm [samples] [control A]");
  const n = Number(Deno.args[1] ?? 10000);
  const ci = Deno.args.indexOf("control");
  const controlA = ci > 0 ? Number(Deno.args[ci + 1] ?? 9) : 0;
  const { instance } = await WebAssembly.instantiate(await Deno.readFile(file), {
    env: {
      abort() {
        throw new Error("core aborted");
      },
    },
  });
  const c = instance.exports as unknown as Core;
  c.init();
  if (!c.kg_round2 || c.relaxed_ok() !== 1) throw new Error("needs the relaxed build, fused");
  const io = c.layout_io();
  const fixed = fromBig(prime(1), 128);
  const pool = Array.from({ length: 64 }, () => fromBig(prime(controlA || 1), 128));
  let comp = 0n;
  do comp = toBig(crypto.getRandomValues(new Uint8Array(128))) | (3n << 1022n) | 1n; while (
    !sieved(comp) || millerRabin(comp, 5n)
  );
  const compBytes = fromBig(comp, 128);
  const bases = crypto.getRandomValues(new Uint8Array(256));
  const op = (w: Uint8Array) => {
    const m = new Uint8Array(c.memory.buffer);
    m.set(w, io);
    if (c.kg_sieve(0, 2048) !== 1) throw new Error("lane 0: trial division");
    m.set(compBytes, io);
    if (c.kg_sieve(1, 2048) !== 1) throw new Error("lane 1: trial division");
    m.set(bases, io + 1024); // IO_RAND
    const r = c.kg_round2(2048);
    if (r !== 1) throw new Error(`verdict ${r}, want 1 (lane 0 prime, lane 1 composite)`);
    return r;
  };
  const coin = crypto.getRandomValues(new Uint8Array(n));
  const pick = crypto.getRandomValues(new Uint8Array(n));
  const inputs = Array.from(
    coin,
    (x, i) => (x & 1) === 0 ? fixed.slice() : pool[pick[i] & 63].slice(),
  );
  for (let i = 0; i < Math.min(200, n); i++) op(inputs[i]);
  const samples: LabelledSample[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    op(inputs[i]);
    samples.push({ cls: (coin[i] & 1) as 0 | 1, t: performance.now() - t0 });
  }
  c.kg_abort();
  const { max } = dudectT(samples);
  const med = (k: number) => {
    const xs = samples.filter((s) => s.cls === k).map((s) => s.t).sort((a, b) => a - b);
    return xs[xs.length >> 1];
  };
  const t = Math.abs(max.t);
  console.log(
    `${
      controlA ? `control (random class a = ${controlA}): ` : ""
    }kg_round2, secret prime in lane 0: ` +
      `n = ${n}, max |t| = ${t.toFixed(2)} (${max.test}), ${
        t > T_THRESHOLD ? "LEAK" : "no leak"
      }; ` +
      `medians fixed ${(med(0) * 1000).toFixed(1)} µs, random ${(med(1) * 1000).toFixed(1)} µs`,
  );
}
