import assert from "node:assert/strict";
import { judgeLoad, type LoadResult } from "./load_result.ts";
import type { RuntimeResult } from "./runner.ts";
import {
  judgeLoadSpeedTargets,
  judgeTargets,
  judgeVaultTarget,
  type TargetResult,
} from "./targets.ts";
import type { WeightResult } from "./weight.ts";
import type { ScenarioResult, VaultLoadResult } from "./vault_load.ts";

function phase(over: Partial<ScenarioResult>): ScenarioResult {
  return {
    name: "login.finish",
    requests: 1500,
    errors: 0,
    concurrency: 8,
    seconds: 1,
    perSecond: 1200,
    p50: 5,
    p90: 8,
    p99: 14,
    max: 20,
    ...over,
  };
}

function run(...scenarios: ScenarioResult[]): VaultLoadResult {
  return { kind: "vault-load", date: "", database: "postgres", notes: [], scenarios };
}

Deno.test("vault target: met when one login.finish phase has both the rate and the p99", () => {
  const r = judgeVaultTarget(run(
    phase({ perSecond: 1200, p99: 14 }),
    phase({ concurrency: 64, perSecond: 2000, p99: 70 }),
    phase({ name: "apply", perSecond: 300, p99: 200 }),
  ));
  assert.equal(r.status, "met");
  assert.match(r.figures, /1200\/s p99 14 ms at 8 in flight; 2000\/s p99 70 ms at 64/);
  assert.doesNotMatch(r.figures, /300\/s/);
});

Deno.test("vault target: each half alone in different phases is not met", () => {
  const r = judgeVaultTarget(run(
    phase({ perSecond: 900, p99: 14 }),
    phase({ concurrency: 64, perSecond: 1400, p99: 60 }),
  ));
  assert.equal(r.status, "not met");
});

Deno.test("vault target: the limits are strict where the issue says so", () => {
  assert.equal(judgeVaultTarget(run(phase({ perSecond: 1000, p99: 24.99 }))).status, "met");
  assert.equal(judgeVaultTarget(run(phase({ perSecond: 1000, p99: 25 }))).status, "not met");
  assert.equal(judgeVaultTarget(run(phase({ perSecond: 999, p99: 10 }))).status, "not met");
});

Deno.test("vault target: a phase with errors does not count", () => {
  const r = judgeVaultTarget(run(phase({ errors: 3 })));
  assert.equal(r.status, "not met");
  assert.match(r.figures, /3 errors/);
});

Deno.test("vault target: absent, failed or skipped suite is not measured", () => {
  assert.equal(judgeVaultTarget(undefined).status, "not measured");
  assert.equal(judgeVaultTarget({ error: "boom" }).status, "not measured");
  assert.equal(judgeVaultTarget({ skipped: "no PostgreSQL" }).status, "not measured");
  assert.equal(judgeVaultTarget(run(phase({ name: "apply" }))).status, "not measured");
});

// Issue 20's targets, from a synthetic Chromium run, weight and load result.

function chromiumRun(figures: Record<string, [number, number, number?]>): RuntimeResult {
  return {
    runtime: "chromium",
    userAgent: "",
    crossOriginIsolated: true,
    timerResolutionMs: 0.005,
    ours: { available: true },
    durationMs: 1,
    operations: Object.entries(figures).map(([id, [ours, webcrypto, n = 25]]) => ({
      id,
      group: "sign" as const,
      title: id,
      results: ([["ours", ours], ["webcrypto", webcrypto]] as const).map(([impl, median]) => ({
        impl,
        kind: impl === "ours" ? "ours" as const : "native" as const,
        label: impl,
        status: "ok" as const,
        median,
        min: median,
        max: median,
        n,
        iterations: n,
        samples: [median],
      })),
    })),
  };
}

function sized(gzipBytes: number) {
  return { bytes: gzipBytes * 3, gzipBytes, parts: [{ role: "page", bytes: 1, gzipBytes }] };
}

const byId = (ts: TargetResult[], id: string) => ts.find((t) => t.id === id)!;

Deno.test("issue 20 targets: ratios against WebCrypto with the issue's limits, inclusive", () => {
  const ts = judgeTargets(
    chromiumRun({
      "rsa.pkcs1.sign.2048": [1.4, 1.0],
      "rsa.pss.sign.2048": [1.41, 1.0],
      "rsa.pkcs1.sign.3072": [2.6, 2.0],
      "rsa.pkcs1.sign.4096": [6.1, 5.0],
      "rsa.pkcs1.verify.2048": [0.03, 0.02],
      "rsa.oaep.encrypt.2048": [0.04, 0.02],
      "rsa.keygen.2048": [110, 100, 20],
    }),
    undefined,
    undefined,
  );
  assert.equal(byId(ts, "i20-sign-pkcs1-2048").status, "met");
  assert.equal(byId(ts, "i20-sign-pss-2048").status, "not met");
  assert.equal(byId(ts, "i20-sign-pkcs1-3072").status, "met");
  assert.equal(byId(ts, "i20-sign-pkcs1-4096").status, "not met");
  assert.equal(byId(ts, "i20-sign-pss-4096").status, "not measured");
  assert.equal(byId(ts, "i20-verify").status, "met");
  assert.equal(byId(ts, "i20-oaep-encrypt").status, "not met");
  assert.equal(byId(ts, "i20-keygen").status, "met");
  assert.match(byId(ts, "i20-keygen").figures, /= 1\.10× \(limit 1\.20×\)/);
});

Deno.test("issue 20 targets: key generation from fewer than 20 keys is not measured", () => {
  const ts = judgeTargets(chromiumRun({ "rsa.keygen.2048": [50, 100, 3] }), undefined, undefined);
  assert.equal(byId(ts, "i20-keygen").status, "not measured");
  assert.match(byId(ts, "i20-keygen").figures, /only 3 keys/);
});

Deno.test("issue 20 targets: the first load's transfer, 150 000 bytes at most", () => {
  const w = (start: number): WeightResult => ({
    wasm: sized(16_000),
    wrapperJs: sized(7_000),
    appletJs: sized(50_000),
    appletTotal: sized(1_000_000),
    appletStart: sized(start),
  });
  const at = (n: number) => byId(judgeTargets(undefined, w(n), undefined), "i20-applet-transfer");
  assert.equal(at(150_000).status, "met");
  assert.equal(at(150_001).status, "not met");
  assert.match(at(150_000).figures, /page 150000/);
});

Deno.test("issue 20 targets: server CPU per journey, and the rate with its p99, as the load suite judged them", () => {
  const load = (cpu: number, perSecond: number, p99: number) => {
    const r = {
      journeys: 100,
      serverCpuMsPerJourney: cpu,
      processes: [{ name: "web", cpuMsPerJourney: cpu }],
      perSecond: { journeys: perSecond, logins: perSecond, submissions: perSecond },
      latency: { journey: { n: 100, p50: p99 / 2, p90: p99, p99, max: p99 } },
      audit: { expected: 1, present: 1, lost: 0, chainOk: true, chainRows: 1, unsealed: 0 },
      errors: 0,
    } as unknown as Omit<LoadResult, "targets">;
    return { ...r, targets: judgeLoad(r) } as LoadResult;
  };
  const [cpu, rate] = judgeLoadSpeedTargets(load(5, 180, 199));
  assert.deepEqual([cpu.id, cpu.status, rate.id, rate.status], [
    "i20-server-cpu",
    "met",
    "i20-load-rate",
    "met",
  ]);
  assert.match(cpu.figures, /web 5/);
  assert.equal(judgeLoadSpeedTargets(load(5.01, 180, 199))[0].status, "not met");
  assert.equal(judgeLoadSpeedTargets(load(4, 179, 100))[1].status, "not met");
  assert.equal(judgeLoadSpeedTargets(load(4, 300, 200))[1].status, "not met");
  assert.deepEqual(
    judgeLoadSpeedTargets({ skipped: "no PostgreSQL" }).map((t) => t.status),
    ["not measured", "not measured"],
  );
});
