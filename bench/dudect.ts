/**
 * Timing-leak check in the style of dudect (Reparaz, Balasch, Verbauwhede, DATE 2017):
 * time one operation many times on two classes of secret input, "fixed" (one chosen
 * value) and "random" (fresh each time), the class of each measurement drawn at
 * random; then Welch's t-test between the classes, raw and cropped at dudect's
 * percentiles (`stats.ts`). |t| > 4.5 means the time depends on the secret.
 *
 * Targets:
 * - controls that MUST be flagged, or the check is void: a BigInt square-and-multiply
 *   (always present) and wasm-crypto's `modPowVarTime` (when the core is present);
 * - a sanity A/A run (both classes the same input) that must NOT be flagged, so that
 *   a pass is not an artefact of the harness;
 * - ours: `modPow` with a secret exponent, and the RSA private operation
 *   (`signPkcs1v15`) with a secret message and with a secret key.
 *
 * The fixed exponent is 2^(b−1) + 1 (top and bottom bit): a square-and-multiply
 * does almost no multiplications on it, a constant-time ladder the same work as on
 * any exponent.
 *
 * Runs in a Deno child process (`deno run -A bench/dudect.ts config.json out.json`):
 * Deno's `performance.now()` has sub-microsecond resolution, browsers coarsen it.
 *
 * @module
 */
import { bytesToBigInt } from "./impls/bytes.ts";
import type { OursPrivateKey, WasmCryptoModule } from "./impls/ours.ts";
import { generateKeyMaterial } from "./impls/webcrypto.ts";
import { makeModPowInput } from "./inputs.ts";
import { loadOursInDeno } from "./ours_loader.ts";
import { dudectT } from "./stats.ts";
import type { LabelledSample, TTest } from "./stats.ts";

export const T_THRESHOLD = 4.5;

export interface DudectConfig {
  samples: number;
  /** Bits of the modPow modulus (1024 = the CRT half of RSA-2048). */
  modPowBits: number;
  rsaBits: number;
}

export type DudectRole = "control" | "sanity" | "ours";

export interface DudectTargetResult {
  id: string;
  title: string;
  role: DudectRole;
  expect: "leak" | "no leak";
  status: "ok" | "unavailable" | "error";
  reason?: string;
  n?: number;
  /** Median time of each class, ms. */
  medianFixed?: number;
  medianRandom?: number;
  max?: TTest;
  tests?: TTest[];
  flagged?: boolean;
  /**
   * Smallest difference of mean times (ms) that at least one test of the battery would
   * have flagged at this sample size: 4.5 × the smallest standard error.
   */
  detectableMs?: number;
  /** The target behaved as its role requires (controls flagged, the rest not). */
  asExpected?: boolean;
  stoppedEarly?: boolean;
}

export interface DudectResult {
  threshold: number;
  config: DudectConfig;
  verdict: "pass" | "leak" | "detector invalid" | "incomplete";
  summary: string;
  targets: DudectTargetResult[];
}

interface Prepared<T> {
  op: (x: T) => unknown;
  fixed: T;
  random: () => T;
  teardown?: () => void;
}

interface Target {
  id: string;
  title: string;
  role: DudectRole;
  /** Stop once |t| passes this after 2 000 samples (controls only: a leak is a leak). */
  earlyStopAt?: number;
  /** Fraction of the configured samples this target takes. */
  sampleShare?: number;
  setup(): Promise<Prepared<unknown> | { unavailable: string }>;
}

/** Left-to-right square-and-multiply on BigInt: multiplies only on 1 bits (variable time). */
export function squareAndMultiplyVarTime(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let r = 1n;
  const bits = exponent.toString(2);
  for (let i = 0; i < bits.length; i++) {
    r = (r * r) % modulus;
    if (bits[i] === "1") r = (r * base) % modulus;
  }
  return r;
}

function _fixedExponent(bits: number): Uint8Array {
  const e = new Uint8Array(bits / 8);
  e[0] = 0x80;
  e[e.length - 1] = 0x01;
  return e;
}

function _randomExponent(bits: number): Uint8Array {
  const e = crypto.getRandomValues(new Uint8Array(bits / 8));
  e[0] |= 0x80;
  return e;
}

function _targets(
  cfg: DudectConfig,
  ours: { mod: WasmCryptoModule } | { unavailable: string },
): Target[] {
  const mp = makeModPowInput(cfg.modPowBits);
  const m = bytesToBigInt(mp.modulus);
  const b = bytesToBigInt(mp.base);
  const bits = cfg.modPowBits;
  const need = <T>(f: (mod: WasmCryptoModule) => Promise<Prepared<T>> | Prepared<T>) => async () =>
    "mod" in ours ? (await f(ours.mod)) as Prepared<unknown> : { unavailable: ours.unavailable };
  return [
    {
      id: "control.bigint",
      title: `BigInt square-and-multiply, ${bits}-bit, secret exponent (negative control)`,
      role: "control",
      earlyStopAt: 20,
      setup: () =>
        Promise.resolve({
          op: (e) => squareAndMultiplyVarTime(b, e as bigint, m),
          fixed: bytesToBigInt(_fixedExponent(bits)),
          random: () => bytesToBigInt(_randomExponent(bits)),
        }),
    },
    {
      id: "control.modPowVarTime",
      title: `wasm-crypto modPowVarTime, ${bits}-bit, secret exponent (negative control)`,
      role: "control",
      earlyStopAt: 20,
      setup: need((mod) => {
        if (typeof mod.modPowVarTime !== "function") {
          throw new Error("wasm-crypto exports no modPowVarTime");
        }
        return {
          op: (e) => mod.modPowVarTime(mp.base, e as Uint8Array, mp.modulus),
          fixed: _fixedExponent(bits),
          random: () => _randomExponent(bits),
        };
      }),
    },
    {
      id: "sanity.same-input",
      title: `A/A sanity: BigInt square-and-multiply, both classes the same exponent`,
      role: "sanity",
      sampleShare: 0.25,
      setup: () => {
        const e = bytesToBigInt(_randomExponent(bits));
        return Promise.resolve({
          op: (x) => squareAndMultiplyVarTime(b, x as bigint, m),
          fixed: e,
          random: () => e,
        });
      },
    },
    {
      id: "ours.modPow",
      title: `wasm-crypto modPow, ${bits}-bit, secret exponent`,
      role: "ours",
      setup: need((mod) => ({
        op: (e) => mod.modPow(mp.base, e as Uint8Array, mp.modulus),
        fixed: _fixedExponent(bits),
        random: () => _randomExponent(bits),
      })),
    },
    {
      id: "ours.sign.message",
      title: `wasm-crypto signPkcs1v15, RSA-${cfg.rsaBits}, secret message (fixed key)`,
      role: "ours",
      sampleShare: 0.5,
      setup: need(async (mod) => {
        const km = await generateKeyMaterial(cfg.rsaBits);
        const key = mod.importPrivateKeyPkcs8(km.pkcs8);
        return {
          op: (msg) => mod.signPkcs1v15(key, "SHA-256", msg as Uint8Array),
          fixed: new Uint8Array(128),
          random: () => crypto.getRandomValues(new Uint8Array(128)),
          teardown: () => key.destroy(),
        };
      }),
    },
    {
      id: "ours.sign.key",
      title:
        `wasm-crypto signPkcs1v15, RSA-${cfg.rsaBits}, secret key (fixed message, 8 random keys)`,
      role: "ours",
      sampleShare: 0.5,
      setup: need(async (mod) => {
        const keys: OursPrivateKey[] = [];
        for (let i = 0; i < 9; i++) {
          keys.push(mod.importPrivateKeyPkcs8((await generateKeyMaterial(cfg.rsaBits)).pkcs8));
        }
        const msg = crypto.getRandomValues(new Uint8Array(128));
        const pick = new Uint8Array(1);
        return {
          op: (k) => mod.signPkcs1v15(k as OursPrivateKey, "SHA-256", msg),
          fixed: keys[0],
          random: () => keys[1 + (crypto.getRandomValues(pick)[0] & 7)],
          teardown: () => keys.forEach((k) => k.destroy()),
        };
      }),
    },
  ];
}

async function _measure(
  t: Target,
  n: number,
  log: (l: string) => void,
): Promise<DudectTargetResult> {
  const head = {
    id: t.id,
    title: t.title,
    role: t.role,
    expect: t.role === "control" ? "leak" : "no leak",
  } as const;
  let prepared: Prepared<unknown> | { unavailable: string };
  try {
    prepared = await t.setup();
  } catch (e) {
    return { ...head, status: "error", reason: (e as Error).message };
  }
  if ("unavailable" in prepared) {
    return { ...head, status: "unavailable", reason: prepared.unavailable };
  }
  const { op, fixed, random } = prepared;
  try {
    const coin = crypto.getRandomValues(new Uint8Array(n));
    // Both classes get inputs made the same way, in the same interleaved order: a fresh
    // copy of the fixed value beside each fresh random one, so neither class is served
    // from a hotter cache line than the other (the secret is the only difference).
    const fresh = () => (fixed instanceof Uint8Array ? fixed.slice() : fixed);
    const inputs = Array.from(coin, (c) => ((c & 1) === 0 ? fresh() : random()));
    for (let i = 0; i < Math.min(200, n); i++) op(inputs[i]); // warm-up
    const samples: LabelledSample[] = [];
    let stoppedEarly = false;
    let sink: unknown;
    for (let i = 0; i < n; i++) {
      const x = inputs[i];
      const t0 = performance.now();
      sink = op(x);
      const dt = performance.now() - t0;
      samples.push({ cls: (coin[i] & 1) as 0 | 1, t: dt });
      if (i > 0 && i % 2000 === 0) {
        const { max } = dudectT(samples);
        log(
          `[bench:dudect] ${t.id}: ${i} samples, max |t| = ${
            Math.abs(max.t).toFixed(2)
          } (${max.test})`,
        );
        if (t.earlyStopAt !== undefined && Math.abs(max.t) > t.earlyStopAt) {
          stoppedEarly = true;
          break;
        }
      }
    }
    if (sink === undefined) throw new Error("operation returned nothing");
    const { max, tests } = dudectT(samples);
    const med = (cls: 0 | 1) => {
      const xs = samples.filter((s) => s.cls === cls).map((s) => s.t).sort((a, b) => a - b);
      return xs[xs.length >> 1];
    };
    const flagged = Math.abs(max.t) > T_THRESHOLD;
    return {
      ...head,
      status: "ok",
      n: samples.length,
      medianFixed: med(0),
      medianRandom: med(1),
      max,
      tests,
      flagged,
      detectableMs: T_THRESHOLD * Math.min(...tests.map((x) => x.se)),
      asExpected: t.role === "control" ? flagged : !flagged,
      stoppedEarly,
    };
  } catch (e) {
    return { ...head, status: "error", reason: (e as Error).message };
  } finally {
    prepared.teardown?.();
  }
}

/** Decide the overall verdict from the targets. */
export function dudectVerdict(
  targets: readonly DudectTargetResult[],
): Pick<DudectResult, "verdict" | "summary"> {
  const ran = targets.filter((t) => t.status === "ok");
  const controls = ran.filter((t) => t.role === "control");
  const badControl = controls.find((t) => !t.flagged);
  const badSanity = ran.find((t) => t.role === "sanity" && t.flagged);
  const ours = targets.filter((t) => t.role === "ours");
  const leaks = ours.filter((t) => t.status === "ok" && t.flagged);
  const broken = targets.filter((t) => t.status === "error");
  if (controls.length === 0 || badControl) {
    return {
      verdict: "detector invalid",
      summary: badControl
        ? `control ${badControl.id} was not flagged (|t| ≤ ${T_THRESHOLD})`
        : "no control ran",
    };
  }
  if (badSanity) {
    return {
      verdict: "detector invalid",
      summary: `A/A sanity run flagged (|t| = ${Math.abs(badSanity.max!.t).toFixed(2)})`,
    };
  }
  if (leaks.length) {
    return {
      verdict: "leak",
      summary: `timing leak: ${leaks.map((t) => t.id).join(", ")}`,
    };
  }
  if (broken.length) {
    return {
      verdict: "incomplete",
      summary: `errors in ${broken.map((t) => t.id).join(", ")}`,
    };
  }
  if (ours.some((t) => t.status !== "ok")) {
    return {
      verdict: "incomplete",
      summary: `controls flagged, but ours not measured: ${
        ours.find((t) => t.status !== "ok")!.reason
      }`,
    };
  }
  return {
    verdict: "pass",
    summary: `controls flagged, no leak in ${ours.length} targets of ours (|t| < ${T_THRESHOLD})`,
  };
}

/** Run every target in this process. */
export async function runDudect(
  cfg: DudectConfig,
  log: (l: string) => void,
): Promise<DudectResult> {
  const loaded = await loadOursInDeno();
  let ours: { mod: WasmCryptoModule } | { unavailable: string } = loaded;
  if ("mod" in loaded) {
    try {
      await loaded.mod.initWasmCrypto();
    } catch (e) {
      ours = { unavailable: `initWasmCrypto() failed: ${(e as Error).message}` };
    }
  }
  const targets: DudectTargetResult[] = [];
  for (const t of _targets(cfg, ours)) {
    const n = Math.max(100, Math.round(cfg.samples * (t.sampleShare ?? 1)));
    log(`[bench:dudect] ${t.id}: up to ${n} samples`);
    const r = await _measure(t, n, log);
    log(
      `[bench:dudect] ${t.id}: ${
        r.status === "ok"
          ? `|t| = ${Math.abs(r.max!.t).toFixed(2)} (${r.max!.test}), n = ${r.n}`
          : `${r.status}: ${r.reason}`
      }`,
    );
    targets.push(r);
  }
  return { threshold: T_THRESHOLD, config: cfg, ...dudectVerdict(targets), targets };
}

if (import.meta.main) {
  const [inPath, outPath] = Deno.args;
  const cfg = JSON.parse(await Deno.readTextFile(inPath)) as DudectConfig;
  const result = await runDudect(cfg, (l) => console.error(l));
  await Deno.writeTextFile(outPath, JSON.stringify(result));
}
