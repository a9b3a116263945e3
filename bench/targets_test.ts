import assert from "node:assert/strict";
import { judgeVaultTarget } from "./targets.ts";
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
