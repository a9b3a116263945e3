/**
 * Low-power profile: the same RSA-2048 PKCS#1 v1.5 sign and the whole applet start,
 * under Chromium's CPU throttling (CDP `Emulation.setCPUThrottlingRate`) at 4× and
 * 6×, next to an unthrottled baseline in the same run. A fixed JavaScript loop
 * measures the slowdown the throttling really produced.
 *
 * @module
 */
import type { Page } from "playwright-core";
import { withThrottling } from "./chromium.ts";
import { BUILD_DIR, bundle } from "./bundle.ts";
import type { HostContext } from "./context.ts";
import { bs, toBase64 } from "./impls/bytes.ts";
import type { ImplKind } from "./impls/types.ts";
import type { OpResult } from "./runner.ts";
import { median, summarize } from "./stats.ts";
import type { StartContext, StartResult } from "./startup/common.ts";
import { START_PROVIDERS } from "./startup/registry.ts";
import { gzipSize } from "./weight.ts";

export const RATES = [1, 4, 6];

export type StartStat =
  & { impl: string; kind: ImplKind; label: string }
  & (
    | {
      status: "ok";
      median: number;
      min: number;
      max: number;
      n: number;
      samples: number[];
      /** Median of each phase, ms; "load" is the module import (download + parse). */
      phases: Record<string, number>;
      /** Gzipped size of the provider's bundle (JS, with any inlined wasm), bytes. */
      bundleGzipBytes: number;
    }
    | { status: "n/a"; reason: string }
    | { status: "error"; error: string }
  );

export interface LowPowerResult {
  rates: number[];
  /** Measured slowdown of a fixed JS loop at each rate (1 at rate 1). */
  slowdown: Record<string, number>;
  sign: Record<string, OpResult | { error: string }>;
  start: Record<string, StartStat[]>;
}

/**
 * A fixed integer loop timed in the page (fastest of three: load from other processes only
 * adds time); its ratio between rates is the slowdown the throttling really produced.
 */
async function _calibrate(page: Page): Promise<number> {
  return await page.evaluate(() => {
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      let x = 0x12345678;
      const t0 = performance.now();
      for (let i = 0; i < 20_000_000; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
      }
      times.push(performance.now() - t0 + (x === 0 ? 1 : 0));
    }
    return times.sort((a, b) => a - b)[0];
  });
}

async function _referenceSignature(ctx: HostContext): Promise<Uint8Array> {
  const key = ctx.inputs.keys.find((k) => k.bits === 2048)!;
  const priv = await crypto.subtle.importKey(
    "pkcs8",
    bs(key.pkcs8),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  return new Uint8Array(
    await crypto.subtle.sign("RSASSA-PKCS1-v1_5", priv, bs(ctx.inputs.message)),
  );
}

export async function runLowPower(ctx: HostContext): Promise<LowPowerResult> {
  const { options, log } = ctx;
  const session = await ctx.chromium();
  const key = ctx.inputs.keys.find((k) => k.bits === 2048);
  if (!key) throw new Error("lowpower: no 2048-bit key in the inputs");
  const result: LowPowerResult = { rates: RATES, slowdown: {}, sign: {}, start: {} };

  // 1. RSA-2048 sign, all implementations interleaved, at each rate
  const page = await session.newBenchPage();
  for (const rate of RATES) {
    log(`[bench] lowpower: RSA-2048 sign at ${rate}× CPU throttling`);
    // the unthrottled loop is timed right before the throttled one, so both see the same load
    const base = await _calibrate(page);
    const loop = rate === 1 ? base : await withThrottling(page, rate, () => _calibrate(page));
    result.slowdown[rate] = loop / base;
    try {
      const r = await session.run(
        page,
        {
          ops: ["rsa.pkcs1.sign.2048"],
          rsaSizes: [2048],
          modPowSizes: [],
          hashSizes: [],
          impls: options.impls,
          timing: options.quick
            ? { rounds: 3, batchMs: 20, warmupMs: 20, budgetMs: 4000, minRounds: 3 }
            : { rounds: 11, batchMs: 40, warmupMs: 150, budgetMs: 30000, minRounds: 5 },
          keygen: { bits: 2048, keys: 0, budgetMs: 0 },
        },
        { ...ctx.inputs, keys: [key] },
        rate,
      );
      result.sign[rate] = r.operations[0];
    } catch (e) {
      result.sign[rate] = { error: (e as Error).message };
    }
  }
  await page.context().close();

  // 2. applet start: fresh context per sample, providers interleaved
  const reference = toBase64(await _referenceSignature(ctx));
  const startCtx: StartContext = {
    bits: 2048,
    pkcs8: toBase64(key.pkcs8),
    spki: toBase64(key.spki),
    jwk: key.jwk,
    message: toBase64(ctx.inputs.message),
    wasmUrl: session.wasmUrl ?? undefined,
    wasmSha256: ctx.ours.build?.sha256,
  };
  const providers: {
    p: (typeof START_PROVIDERS)[number];
    path?: string;
    gz?: number;
    extra?: Record<string, string>;
    skip?: StartStat;
  }[] = [];
  for (const p of START_PROVIDERS) {
    if (options.impls.length && !options.impls.includes(p.name)) continue;
    const head = { impl: p.name, kind: p.kind, label: p.label };
    const entry = await p.entry({ present: ctx.ours.present, built: ctx.ours.build !== null });
    if (!(entry instanceof URL)) {
      providers.push({ p, skip: { ...head, status: "n/a", reason: entry.unavailable } });
      continue;
    }
    try {
      const prepared = p.prepare ? await p.prepare(session.server) : { extra: {} };
      if ("unavailable" in prepared) {
        providers.push({ p, skip: { ...head, status: "n/a", reason: prepared.unavailable } });
        continue;
      }
      const js = await bundle(entry, new URL(`start_${p.name}.js`, BUILD_DIR), { minify: true });
      const path = `/start/${p.name}.js`;
      session.server.put(path, { body: js, type: "text/javascript" });
      providers.push({ p, path, gz: prepared.gzipBytes ?? gzipSize(js), extra: prepared.extra });
    } catch (e) {
      providers.push({ p, skip: { ...head, status: "error", error: (e as Error).message } });
    }
  }
  const samples = options.quick ? 2 : 7;
  for (const rate of RATES) {
    log(
      `[bench] lowpower: applet start at ${rate}× CPU throttling (${samples} samples per provider)`,
    );
    const live = providers.filter((x) => x.path && (x.p.rates ?? RATES).includes(rate));
    const totals = new Map<string, number[]>(live.map((x) => [x.p.name, []]));
    const phases = new Map<string, Record<string, number>[]>(live.map((x) => [x.p.name, []]));
    const errors = new Map<string, string>();
    for (let s = 0; s < samples; s++) {
      for (let j = 0; j < live.length; j++) {
        const x = live[(j + s) % live.length];
        if (errors.has(x.p.name)) continue;
        const context = await session.browser.newContext();
        try {
          const pg = await context.newPage();
          await pg.goto(`${session.server.origin}/blank.html`);
          const url = `${session.server.origin}${x.path}?sample=${rate}-${s}`;
          const run = () =>
            pg.evaluate(async ([u, c]) => {
              const t0 = performance.now();
              const m = await import(u);
              const t1 = performance.now();
              const r = await m.start(c);
              const t2 = performance.now();
              return { total: t2 - t0, load: t1 - t0, start: t2 - t1, result: r };
            }, [url, { ...startCtx, extra: x.extra }] as const);
          const r = rate === 1 ? await run() : await withThrottling(pg, rate, run);
          const res = r.result as StartResult;
          if (x.p.signs !== false && res.signature !== reference) {
            throw new Error("start produced a signature that differs from WebCrypto's");
          }
          totals.get(x.p.name)!.push(r.total);
          phases.get(x.p.name)!.push({ load: r.load, ...res.phases });
        } catch (e) {
          errors.set(x.p.name, (e as Error).message.split("\n")[0]);
        } finally {
          await context.close();
        }
      }
    }
    result.start[rate] = providers.map((x): StartStat => {
      if (x.skip) return x.skip;
      const head = { impl: x.p.name, kind: x.p.kind, label: x.p.label };
      if (!(x.p.rates ?? RATES).includes(rate)) {
        return { ...head, status: "n/a", reason: x.p.ratesReason ?? `not measured at ${rate}×` };
      }
      if (errors.has(x.p.name)) return { ...head, status: "error", error: errors.get(x.p.name)! };
      const t = totals.get(x.p.name)!;
      const ph = phases.get(x.p.name)!;
      const phaseMedians: Record<string, number> = {};
      for (const k of Object.keys(ph[0])) phaseMedians[k] = median(ph.map((p) => p[k]));
      return {
        ...head,
        status: "ok",
        ...summarize(t),
        samples: t,
        phases: phaseMedians,
        bundleGzipBytes: x.gz!,
      };
    });
  }
  return result;
}
