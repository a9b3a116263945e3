/**
 * Experiment for issue 4 (not part of the core): does a two-lane Montgomery kernel in
 * f64x2 arithmetic beat the core's 28-bit integer kernel (montMul2/montSqr2)?
 *
 *   deno run -A tools/wasm-crypto/f64_probe.ts [--trials 200] [--rounds 25] [--chromium]
 *
 * Compiles `tools/wasm-crypto/experiments/f64_kernel.ts` (which imports the core's kernels for
 * the comparison) with the core's asc flags, checks both f64 variants against BigInt
 * (random and extreme operands below 2m', two 1024-bit moduli side by side), then
 * times one pair multiplication and squaring of 1024-bit moduli: CPU time in Deno
 * (process.cpuUsage, minimum and median of interleaved rounds) and, with
 * `--chromium`, wall time in one cross-origin-isolated Chromium page. Findings:
 * docs/wasm-crypto.md, "f64 kernel experiment".
 *
 * @module
 */
import asc from "assemblyscript/asc";
import process from "node:process";
import { ASC_FLAGS } from "../../wasm-crypto/build.ts";
import { launchChromium, startServer } from "../../bench/chromium.ts";
import { randomBytes, toBig } from "../../wasm-crypto/test_util.ts";

const SRC = new URL("experiments/f64_kernel.ts", import.meta.url).pathname;
const L_F = 46, L_INT = 37;

function arg(name: string, dflt: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
}

async function compile(): Promise<Uint8Array> {
  let out: Uint8Array | undefined;
  // initialMemory: the probe's regions sit at 1 MiB
  const flags = ASC_FLAGS.map((f) => f === "4" ? "40" : f);
  const { error, stderr } = await asc.main([SRC, ...flags, "--outFile", "probe.wasm"], {
    writeFile(name: string, contents: Uint8Array | string) {
      if (name.endsWith(".wasm")) out = contents as Uint8Array;
    },
  });
  if (error || !out) throw new Error(`asc failed: ${error}\n${stderr}`);
  return out;
}

/** A uniformly random number below 2^bits. */
function random(bits: number): bigint {
  return toBig(randomBytes(Math.ceil(bits / 8))) & ((1n << BigInt(bits)) - 1n);
}

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [((a % m) + m) % m, m, 1n, 0n];
  while (r1) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

// deno-lint-ignore no-explicit-any
type Exports = any;

/** Checks the kernels of one digit width against BigInt: digits of w bits, L of them. */
function check(
  ex: Exports,
  trials: number,
  w: bigint,
  L: number,
  setup: string,
  kernels: string[],
): void {
  const base = 1n << w, R = 1n << (w * BigInt(L)), X = ex.fAddr() as number;
  const dv = () => new DataView((ex.memory as WebAssembly.Memory).buffer);
  const writeDigits = (addr: number, x: bigint) => { // u32 digits, as setupF reads them
    for (let i = 0; i < L; i++, x >>= w) {
      dv().setUint32(addr + 4 * i, Number(x & (base - 1n)), true);
    }
  };
  const writePair = (addr: number, x: bigint, y: bigint) => {
    for (let i = 0; i < L; i++, x >>= w, y >>= w) {
      dv().setFloat64(addr + 16 * i, Number(x & (base - 1n)), true);
      dv().setFloat64(addr + 16 * i + 8, Number(y & (base - 1n)), true);
    }
  };
  const readPair = (addr: number): [bigint, bigint] => {
    let x = 0n, y = 0n;
    for (let i = L - 1; i >= 0; i--) {
      const a = dv().getFloat64(addr + 16 * i, true), b = dv().getFloat64(addr + 16 * i + 8, true);
      for (const d of [a, b]) {
        if (!Number.isInteger(d) || d < 0 || d >= Number(base)) {
          throw new Error(`digit ${i} = ${d}`);
        }
      }
      x = (x << w) | BigInt(a);
      y = (y << w) | BigInt(b);
    }
    return [x, y];
  };
  for (let t = 0; t < trials; t++) {
    const p = random(1024) | (1n << 1023n) | 1n, q = random(1024) | (1n << 1023n) | 1n;
    const scale = (m: bigint) => ((base - inverse(m, base)) % base) * m; // m' = -1 mod 2^w
    const mp = scale(p), mq = scale(q);
    if (R < 16n * mp || R < 16n * mq) throw new Error("R' too small for lazy reduction");
    writeDigits(X + 32768, mp);
    writeDigits(X + 36864, mq);
    ex[setup](X + 32768, X + 36864, L);
    const pick = (m: bigint, i: number) =>
      t < 20 ? 2n * m - 1n - BigInt(i) : random(1100) % (2n * m);
    const [a1, a2, b1, b2] = [pick(mp, t), pick(mq, t), pick(mp, 2 * t), pick(mq, 3 * t)];
    writePair(X, a1, a2);
    writePair(X + 2048, b1, b2);
    const ri1 = inverse(R % mp, mp), ri2 = inverse(R % mq, mq);
    for (const name of kernels) {
      const sqr = name.startsWith("montSqr");
      if (sqr) ex[name](X + 4096, X, L);
      else ex[name](X + 4096, X, X + 2048, L);
      const [r1, r2] = readPair(X + 4096);
      const [x1, x2] = sqr ? [a1, a2] : [b1, b2];
      const ok = r1 < 2n * mp && r2 < 2n * mq && r1 % mp === a1 * x1 % mp * ri1 % mp &&
        r2 % mq === a2 * x2 % mq * ri2 % mq;
      if (!ok) throw new Error(`${name} wrong in trial ${t}`);
    }
  }
}

const KERNELS = [
  ["int sqr (montSqr2, 28-bit, L 37)", "benchSqr2", L_INT],
  ["f64 sqr, one column (L 46)", "benchSqrS", L_F],
  ["f64 sqr, 4-column blocks (L 46)", "benchSqrB", L_F],
  ["int mul (montMul2, 28-bit, L 37)", "benchMul2", L_INT],
  ["f64 mul, one column (L 46)", "benchMulS", L_F],
  ["f64 mul, 4-column blocks (L 46)", "benchMulB", L_F],
] as const;

function timeDeno(ex: Exports, rounds: number): string[] {
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const n = 2000, samples = KERNELS.map(() => [] as number[]);
  for (let w = 0; w < 10; w++) for (const [, f, L] of KERNELS) ex[f](n, L);
  for (let r = 0; r < rounds; r++) {
    KERNELS.forEach(([, f, L], i) => {
      const t0 = cpu();
      ex[f](n, L);
      samples[i].push((cpu() - t0) * 1000 / n);
    });
  }
  return KERNELS.map(([name], i) => {
    const s = samples[i].sort((a, b) => a - b);
    return `${name.padEnd(34)} min ${s[0].toFixed(0)} ns, median ${s[s.length >> 1].toFixed(0)} ns`;
  });
}

async function timeChromium(wasm: Uint8Array, rounds: number): Promise<string> {
  const server = startServer();
  server.put("/probe.wasm", { body: wasm, type: "application/wasm" });
  server.put("/", { body: `<script type="module" src="/probe.js"></script>`, type: "text/html" });
  server.put("/probe.js", {
    type: "text/javascript",
    body: `const K = ${JSON.stringify(KERNELS)};
const { instance } = await WebAssembly.instantiate(await (await fetch("/probe.wasm")).arrayBuffer(), { env: { abort() { throw new Error("abort"); } } });
const ex = instance.exports, n = 2000, s = K.map(() => []);
for (let w = 0; w < 10; w++) for (const [, f, L] of K) ex[f](n, L);
for (let r = 0; r < ${rounds}; r++) K.forEach(([, f, L], i) => { const t = performance.now(); ex[f](n, L); s[i].push((performance.now() - t) * 1e6 / n); });
globalThis.__out = K.map(([name], i) => { const v = s[i].sort((a, b) => a - b); return name.padEnd(34) + " min " + v[0].toFixed(0) + " ns, median " + v[v.length >> 1].toFixed(0) + " ns"; }).join("\\n");`,
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(server.origin + "/");
    await page.waitForFunction(() => (globalThis as { __out?: string }).__out, null, {
      timeout: 300_000,
    });
    return await page.evaluate(() => (globalThis as unknown as { __out: string }).__out);
  } finally {
    await browser.close();
    await server.close();
  }
}

if (import.meta.main) {
  const wasm = await compile();
  const { instance } = await WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, {
    env: {
      abort: () => {
        throw new Error("abort");
      },
    },
  });
  const trials = arg("--trials", 200), rounds = arg("--rounds", 25);
  const ex = instance.exports as Exports;
  check(ex, trials, 23n, L_F, "setupF", ["montMulS", "montMulB", "montSqrS", "montSqrB"]);
  console.log(`both f64 variants agree with BigInt in ${trials} trials`);
  console.log(
    `load ${(await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ")}`,
  );
  console.log("Deno, CPU time per pair operation (two 1024-bit moduli):");
  for (const line of timeDeno(ex, rounds)) console.log("  " + line);
  if (Deno.args.includes("--chromium")) {
    console.log("Chromium, wall time per pair operation:");
    for (const line of (await timeChromium(wasm, rounds)).split("\n")) console.log("  " + line);
  }
}
