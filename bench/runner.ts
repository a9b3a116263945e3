/**
 * The in-runtime part of the benchmark: every operation of issue 4, every
 * implementation, checked once for correctness against WebCrypto (or BigInt for
 * modPow), then timed interleaved (see `timing.ts`). The same module runs inside the
 * Chromium page (bundled) and in a Deno child process.
 *
 * An implementation that fails its check reports an error and no time, so a broken
 * adapter can never show a flattering figure.
 *
 * @module
 */
import { bigIntToBytes, bs, bytesEqual, bytesToBigInt } from "./impls/bytes.ts";
import { forgeRsa } from "./impls/forge.ts";
import { hashWasm, nobleHashes } from "./impls/hashes.ts";
import { hazaeRsa } from "./impls/hazae.ts";
import { jsrsasignRsa } from "./impls/jsrsasign.ts";
import { microRsa } from "./impls/micro.ts";
import { missingOursExports, oursAdapters } from "./impls/ours.ts";
import type { OursBinding } from "./impls/ours.ts";
import type { HashAdapter, ImplKind, KeyMaterial, RsaAdapter } from "./impls/types.ts";
import { webCryptoHash, webCryptoRsa } from "./impls/webcrypto.ts";
import type { BenchInputs } from "./inputs.ts";
import {
  check,
  type Loaded,
  OAEP_BITS,
  refModPow,
  RSA_OPS,
  rsaReference,
  settle,
} from "./rsa_ops.ts";
import { summarize } from "./stats.ts";
import { measure } from "./timing.ts";
import type { TimingOptions } from "./timing.ts";

/** What one runtime is asked to do. */
export interface RunConfig {
  /** Operation ids or id prefixes to run (e.g. "rsa.pkcs1.", "sha256.64"); empty = none. */
  ops: string[];
  rsaSizes: number[];
  modPowSizes: number[];
  hashSizes: number[];
  /** Implementation names to keep (empty = all). */
  impls: string[];
  timing: TimingOptions;
  keygen: { bits: number; keys: number; budgetMs: number };
}

/** Result of one implementation on one operation. */
export type ImplResult =
  & { impl: string; kind: ImplKind; label: string }
  & (
    | {
      status: "ok";
      median: number;
      min: number;
      max: number;
      n: number;
      iterations: number;
      samples: number[];
      /** Keygen only: the budget stopped it before the requested number of keys. */
      truncated?: boolean;
    }
    | { status: "n/a"; reason: string }
    | { status: "error"; error: string }
  );

export interface OpResult {
  id: string;
  group: "sign" | "oaep" | "keygen" | "modpow" | "sha";
  title: string;
  /** Input size in bytes (hashes) or key / modulus size in bits. */
  bytes?: number;
  bits?: number;
  results: ImplResult[];
}

export interface RuntimeResult {
  runtime: string;
  userAgent: string;
  crossOriginIsolated: boolean | null;
  /** Smallest step of `performance.now()` observed, ms. */
  timerResolutionMs: number;
  ours: { available: boolean; reason?: string; missing?: string[] };
  operations: OpResult[];
  durationMs: number;
}

type Log = (line: string) => void;

function _wanted(cfg: RunConfig, id: string): boolean {
  return cfg.ops.some((p) => id === p || (p.endsWith(".") && id.startsWith(p)));
}

function _keep(cfg: RunConfig, name: string): boolean {
  return cfg.impls.length === 0 || cfg.impls.includes(name);
}

function _errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function _crossOriginIsolated(): boolean | null {
  const v = (globalThis as { crossOriginIsolated?: unknown }).crossOriginIsolated;
  return typeof v === "boolean" ? v : null;
}

function _timerResolution(): number {
  let prev = performance.now();
  let min = Infinity;
  for (let i = 0; i < 200000 && min > 1e-5; i++) {
    const t = performance.now();
    if (t !== prev) {
      min = Math.min(min, t - prev);
      prev = t;
    }
  }
  return min;
}

function _base(a: { name: string; kind: ImplKind; label: string }) {
  return { impl: a.name, kind: a.kind, label: a.label };
}

/** Run a prepared set of candidates through the timer and turn them into results. */
async function _time(
  cfg: RunConfig,
  adapters: { name: string; kind: ImplKind; label: string }[],
  prepared: Map<
    string,
    (() => unknown) | { status: "n/a"; reason: string } | { status: "error"; error: string }
  >,
): Promise<ImplResult[]> {
  const candidates = [...prepared].filter(([, v]) => typeof v === "function").map(([impl, fn]) => ({
    impl,
    fn: fn as () => unknown,
  }));
  let timings: Awaited<ReturnType<typeof measure>> = [];
  let timingError: string | undefined;
  try {
    timings = candidates.length ? await measure(candidates, cfg.timing) : [];
  } catch (e) {
    timingError = _errorText(e);
  }
  return adapters.filter((a) => prepared.has(a.name)).map((a): ImplResult => {
    const v = prepared.get(a.name)!;
    if (typeof v !== "function") return { ..._base(a), ...v };
    if (timingError) return { ..._base(a), status: "error", error: `while timing: ${timingError}` };
    const t = timings.find((x) => x.impl === a.name)!;
    return {
      ..._base(a),
      status: "ok",
      median: t.median,
      min: t.min,
      max: t.max,
      n: t.n,
      iterations: t.iterations,
      samples: t.samples,
    };
  });
}

async function _rsaSize(
  cfg: RunConfig,
  key: KeyMaterial,
  inputs: BenchInputs,
  rsa: RsaAdapter[],
  initErrors: Map<string, string>,
  log: Log,
): Promise<OpResult[]> {
  const bits = key.bits;
  const specs = RSA_OPS.filter((s) =>
    _wanted(cfg, s.id(bits)) && (s.group !== "oaep" || bits === OAEP_BITS)
  );
  if (specs.length === 0) return [];
  const ref = await rsaReference(key, inputs.message, inputs.oaepPlaintext);
  const loaded: Loaded[] = [];
  for (const adapter of rsa) {
    if (initErrors.has(adapter.name)) {
      loaded.push({ adapter, error: initErrors.get(adapter.name) });
      continue;
    }
    try {
      loaded.push({ adapter, ops: await adapter.load(key) });
    } catch (e) {
      loaded.push({ adapter, error: `key import: ${_errorText(e)}` });
    }
  }
  const out: OpResult[] = [];
  for (const spec of specs) {
    const id = spec.id(bits);
    log(`${id}: checking and timing ${loaded.length} implementations`);
    const prepared = new Map<
      string,
      (() => unknown) | { status: "n/a"; reason: string } | { status: "error"; error: string }
    >();
    for (const l of loaded) {
      if (l.error) prepared.set(l.adapter.name, { status: "error", error: l.error });
      else if (!l.ops![spec.member]) {
        prepared.set(l.adapter.name, {
          status: "n/a",
          reason: `${l.adapter.name} does not offer this operation`,
        });
      } else {
        try {
          prepared.set(l.adapter.name, await spec.prepare(l.ops!, ref));
        } catch (e) {
          prepared.set(l.adapter.name, { status: "error", error: _errorText(e) });
        }
      }
    }
    out.push({
      id,
      group: spec.group,
      title: spec.title(bits),
      bits,
      results: await _time(cfg, rsa, prepared),
    });
  }
  for (const l of loaded) l.ops?.dispose?.();
  return out;
}

async function _keygen(
  cfg: RunConfig,
  rsa: RsaAdapter[],
  initErrors: Map<string, string>,
  log: Log,
) {
  const { bits, keys, budgetMs } = cfg.keygen;
  const id = `rsa.keygen.${bits}`;
  const active = rsa.filter((a) => a.generate && !initErrors.has(a.name));
  const times = new Map<string, number[]>(active.map((a) => [a.name, []]));
  const spent = new Map<string, number>(active.map((a) => [a.name, 0]));
  const errors = new Map<string, string>();
  log(`${id}: ${keys} keys per implementation, interleaved`);
  for (let r = 0; r < keys; r++) {
    for (let j = 0; j < active.length; j++) {
      const a = active[(j + r) % active.length];
      if (errors.has(a.name) || spent.get(a.name)! > budgetMs) continue;
      try {
        const t0 = performance.now();
        const key = await settle(a.generate!(bits));
        const dt = performance.now() - t0;
        if (r === 0) {
          const { n, e, d } = await settle(key.components());
          check(
            n.toString(2).length === bits,
            `modulus has ${n.toString(2).length} bits, expected ${bits}`,
          );
          check(e === 65537n, `public exponent ${e}, expected 65537`);
          const m = 0x1234567890abcdefn;
          check(refModPow(refModPow(m, d, n), e, n) === m, "(m^d)^e ≠ m mod n");
        }
        key.dispose?.();
        times.get(a.name)!.push(dt);
        spent.set(a.name, spent.get(a.name)! + dt);
      } catch (e) {
        errors.set(a.name, _errorText(e));
      }
    }
    log(`${id}: round ${r + 1}/${keys}`);
  }
  const results: ImplResult[] = rsa.map((a): ImplResult => {
    if (initErrors.has(a.name)) {
      return { ..._base(a), status: "error", error: initErrors.get(a.name)! };
    }
    if (!a.generate) {
      return { ..._base(a), status: "n/a", reason: `${a.name} does not generate keys` };
    }
    if (errors.has(a.name)) return { ..._base(a), status: "error", error: errors.get(a.name)! };
    const t = times.get(a.name)!;
    return {
      ..._base(a),
      status: "ok",
      ...summarize(t),
      iterations: 1,
      samples: t,
      truncated: t.length < keys,
    };
  });
  return {
    id,
    group: "keygen" as const,
    title: `RSA-${bits} key generation (e = 65537)`,
    bits,
    results,
  };
}

async function _modPow(
  cfg: RunConfig,
  inputs: BenchInputs,
  rsa: RsaAdapter[],
  initErrors: Map<string, string>,
  log: Log,
) {
  const out: OpResult[] = [];
  for (const mp of inputs.modPow) {
    const id = `modpow.${mp.bits}`;
    if (!cfg.modPowSizes.includes(mp.bits) || !_wanted(cfg, id)) continue;
    log(`${id}: checking and timing`);
    const expect = bigIntToBytes(
      refModPow(bytesToBigInt(mp.base), bytesToBigInt(mp.exponent), bytesToBigInt(mp.modulus)),
      mp.modulus.length,
    );
    const prepared = new Map<
      string,
      (() => unknown) | { status: "n/a"; reason: string } | { status: "error"; error: string }
    >();
    for (const a of rsa) {
      if (initErrors.has(a.name)) {
        prepared.set(a.name, { status: "error", error: initErrors.get(a.name)! });
      } else if (!a.modPow) {
        prepared.set(a.name, { status: "n/a", reason: `${a.name} exposes no modPow` });
      } else {
        try {
          check(
            bytesEqual(a.modPow(mp.base, mp.exponent, mp.modulus), expect),
            "result differs from BigInt",
          );
          const f = a.modPow;
          prepared.set(a.name, () => f(mp.base, mp.exponent, mp.modulus));
        } catch (e) {
          prepared.set(a.name, { status: "error", error: _errorText(e) });
        }
      }
    }
    out.push({
      id,
      group: "modpow",
      title: `modPow ${mp.bits}-bit (full-length exponent)`,
      bits: mp.bits,
      results: await _time(cfg, rsa, prepared),
    });
  }
  return out;
}

async function _sha(
  cfg: RunConfig,
  hashes: HashAdapter[],
  initErrors: Map<string, string>,
  log: Log,
) {
  const out: OpResult[] = [];
  for (const alg of ["sha256", "sha1"] as const) {
    for (const size of cfg.hashSizes) {
      const id = `${alg}.${size}`;
      if (!_wanted(cfg, id)) continue;
      log(`${id}: checking and timing`);
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) {
        crypto.getRandomValues(data.subarray(i, Math.min(size, i + 65536)));
      }
      const expect = new Uint8Array(
        await crypto.subtle.digest(alg === "sha256" ? "SHA-256" : "SHA-1", bs(data)),
      );
      const prepared = new Map<
        string,
        (() => unknown) | { status: "n/a"; reason: string } | { status: "error"; error: string }
      >();
      for (const h of hashes) {
        const f = h[alg];
        if (initErrors.has(h.name)) {
          prepared.set(h.name, { status: "error", error: initErrors.get(h.name)! });
        } else if (!f) prepared.set(h.name, { status: "n/a", reason: `${h.name} has no ${alg}` });
        else {
          try {
            check(bytesEqual(await settle(f(data)), expect), "digest differs from WebCrypto's");
            prepared.set(h.name, () => f(data));
          } catch (e) {
            prepared.set(h.name, { status: "error", error: _errorText(e) });
          }
        }
      }
      const label = size >= 1 << 20
        ? `${size >> 20} MiB`
        : size >= 1024
        ? `${size >> 10} KiB`
        : `${size} B`;
      out.push({
        id,
        group: "sha",
        title: `${alg === "sha256" ? "SHA-256" : "SHA-1"} of ${label}`,
        bytes: size,
        results: await _time(cfg, hashes, prepared),
      });
    }
  }
  return out;
}

/** Run the configured operations in this runtime; `ours` is null when the core is absent. */
export async function runOperations(
  runtime: string,
  cfg: RunConfig,
  inputs: BenchInputs,
  ours: OursBinding | { unavailable: string },
  log: Log,
): Promise<RuntimeResult> {
  const t0 = performance.now();
  const rsa: RsaAdapter[] = [];
  const hashes: HashAdapter[] = [];
  let oursInfo: RuntimeResult["ours"];
  if ("mod" in ours) {
    const missing = missingOursExports(ours.mod as unknown as Record<string, unknown>);
    const a = oursAdapters(ours);
    rsa.push(a.rsa);
    hashes.push(a.hash);
    oursInfo = { available: true, ...(missing.length ? { missing } : {}) };
  } else {
    oursInfo = { available: false, reason: ours.unavailable };
  }
  rsa.push(webCryptoRsa, forgeRsa, jsrsasignRsa, microRsa, hazaeRsa);
  hashes.push(webCryptoHash, hashWasm, nobleHashes);
  const keptRsa = rsa.filter((a) => _keep(cfg, a.name));
  const keptHash = hashes.filter((a) => _keep(cfg, a.name));
  const initErrors = new Map<string, string>();
  for (const a of [...keptRsa, ...keptHash]) {
    if (initErrors.has(a.name)) continue;
    try {
      await a.init?.();
    } catch (e) {
      initErrors.set(a.name, `init: ${_errorText(e)}`);
    }
  }
  const operations: OpResult[] = [];
  for (const key of inputs.keys) {
    if (cfg.rsaSizes.includes(key.bits)) {
      operations.push(...await _rsaSize(cfg, key, inputs, keptRsa, initErrors, log));
    }
  }
  if (_wanted(cfg, `rsa.keygen.${cfg.keygen.bits}`)) {
    operations.push(await _keygen(cfg, keptRsa, initErrors, log));
  }
  operations.push(...await _modPow(cfg, inputs, keptRsa, initErrors, log));
  operations.push(...await _sha(cfg, keptHash, initErrors, log));
  return {
    runtime,
    userAgent: navigator.userAgent,
    crossOriginIsolated: _crossOriginIsolated(),
    timerResolutionMs: _timerResolution(),
    ours: oursInfo,
    operations,
    durationMs: performance.now() - t0,
  };
}
