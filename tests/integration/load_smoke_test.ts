/**
 * Smoke test of the `load` suite of `deno task bench` (bench/load.ts): a few seconds
 * with 2 simulated users against `deno task start` on PostgreSQL must finish with zero
 * errors, every audit row the journeys wrote present and the chain verified, and write
 * its figures to latest.json and report.html; then the same with two web servers sharing a
 * Redis (issue 19; where redis-server can run), compared. No speed is asserted (that is the
 * benchmark's job). Skipped without PostgreSQL. Budget ≤ 80 s.
 */
import assert from "node:assert/strict";
import type { BenchResult, LoadResult } from "../../bench/mod.ts";
import { postgresAvailable, redisUnavailable } from "../../harness/mod.ts";
import { LIGHT_KSF } from "../../harness/mod.ts";
import { checkKsf, KeyRecordError } from "../../protocol/mod.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("the load users' light stretching is refused at the applet's floor (weak_ksf)", () => {
  assert.throws(
    () => checkKsf(LIGHT_KSF),
    (e) => e instanceof KeyRecordError && e.code === "weak_ksf",
  );
  // The applet's worker hands signIn only identity and pass phrase: no floor from a message.
  const worker = Deno.readTextFileSync(new URL("applet/worker.ts", ROOT));
  assert.doesNotMatch(worker, /ksfFloor\s*:/);
  assert.match(
    worker,
    /signIn\(await _session\(\),\s*\{\s*identity: req\.identity,\s*passphrase: req\.passphrase,?\s*\}\)/,
  );
});

Deno.test({
  name: "bench --only load: 2 users for a few seconds, zero errors, audit rows all present",
  ignore: !(await postgresAvailable()),
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "roamsign-load-smoke-" });
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "bench/main.ts",
          "--only",
          "load",
          "--load-seconds",
          "3",
          "--load-warmup",
          "1",
          "--load-users",
          "2",
          "--load-concurrency",
          "2",
          "--out",
          out,
        ],
        cwd: ROOT.pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(run.stdout);
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, `bench exited ${run.code}\n${stdout}\n${stderr.slice(-3000)}`);
      const r = JSON.parse(await Deno.readTextFile(`${out}/latest.json`)) as BenchResult;
      assert.deepEqual(r.options.suites, ["load"]);
      assert.deepEqual(r.problems, []);
      const load = r.suites.load as LoadResult;
      assert.equal(load.kind, "load", JSON.stringify(r.suites.load));
      assert.equal(load.errors, 0, JSON.stringify(load.errorList));
      assert.ok(load.journeys > 0, "journeys completed in the timed window");
      assert.ok(load.perSecond.journeys > 0 && load.perSecond.submissions > 0);
      assert.ok(load.latency.journey.n > 0 && load.latency.journey.p99 > 0);
      assert.ok(load.audit.expected >= 2 * load.journeys);
      assert.equal(load.audit.lost, 0);
      assert.equal(load.audit.present, load.audit.expected);
      assert.ok(load.audit.chainOk);
      for (const name of ["supervisor", "key-vault", "proxy", "web", "host-bank"]) {
        const p = load.processes.find((x) => x.name === name);
        assert.ok(p && p.pid !== null, `PID of ${name} found`);
        assert.ok(p.rssBeforeKiB! > 0 && p.rssAfterKiB! > 0, `RSS of ${name} read`);
      }
      assert.ok(load.processes.some((p) => p.name === "web" && p.cpuMsPerJourney > 0));
      assert.equal(load.targets.length, 7);
      assert.ok(load.targets.some((t) => t.target.startsWith("server CPU ≤ 5 ms per journey")));
      assert.match(stdout, /server CPU-ms per journey: [\d.]+ \(/);
      assert.ok(load.notes.some((n) => n.includes("weak_ksf")), "light stretching is marked");
      if (!(await redisUnavailable())) {
        // Issue 19: the same load on two web servers sharing Redis, compared.
        const so = load.scaleOut!;
        assert.ok(so, "one against two web servers");
        assert.deepEqual(so.runs.map((x) => [x.webServers, x.store]), [[1, "memory"], [
          2,
          "redis",
        ]]);
        assert.equal(so.runs[1].errors, 0);
        assert.ok(so.runs[1].journeysPerSecond > 0);
        assert.ok(so.runs[1].redisCpuMsPerJourney >= 0);
        for (const op of ["create", "key", "lookup", "accept", "release"]) {
          const f = so.storeLatencyMs[op];
          assert.ok(f && f.n > 0 && f.p99 >= f.p50, `store latency of ${op}: ${JSON.stringify(f)}`);
        }
        assert.match(stdout, /one against two web servers sharing Redis/);
      }
      assert.match(stdout, /== load/);
      assert.match(stdout, /journeys\/s/);
      const html = await Deno.readTextFile(`${out}/report.html`);
      assert.match(html, /Load: simulated users/);
      assert.match(html, /target \(issues 7, 20\)/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
