/**
 * Smoke test of `deno task bench`: a quick run over SHA and RSA-2048 sign/verify in
 * Chromium and Deno must produce latest.json of the documented shape, a figure from
 * every implementation that offers the operation (none may fail its correctness
 * check), and a self-contained report.html.
 */
import assert from "node:assert/strict";
import type { BenchResult, RuntimeResult } from "../../bench/mod.ts";

const ROOT = new URL("../../", import.meta.url);

/** Which implementations must have a figure for each operation (others may be n/a). */
const EXPECTED: Record<string, string[]> = {
  "rsa.pkcs1.sign.2048": ["webcrypto", "node-forge", "jsrsasign", "micro-rsa-dsa-dh", "rsa.wasm"],
  "rsa.pkcs1.verify.2048": ["webcrypto", "node-forge", "jsrsasign", "micro-rsa-dsa-dh", "rsa.wasm"],
  "rsa.pss.sign.2048": ["webcrypto", "node-forge", "jsrsasign", "micro-rsa-dsa-dh"],
  "rsa.pss.verify.2048": ["webcrypto", "node-forge", "jsrsasign", "micro-rsa-dsa-dh"],
  "sha256.64": ["webcrypto", "hash-wasm", "noble-hashes"],
  "sha256.1024": ["webcrypto", "hash-wasm", "noble-hashes"],
  "sha256.1048576": ["webcrypto", "hash-wasm", "noble-hashes"],
  "sha1.64": ["webcrypto", "hash-wasm", "noble-hashes"],
  "sha1.1024": ["webcrypto", "hash-wasm", "noble-hashes"],
  "sha1.1048576": ["webcrypto", "hash-wasm", "noble-hashes"],
};

function _checkRuntime(
  name: string,
  rt: BenchResult["runtimes"]["chromium"],
  oursPresent: boolean,
) {
  assert.ok(rt && !("error" in rt), `${name}: ${rt && "error" in rt ? rt.error : "missing"}`);
  const r = rt as RuntimeResult;
  assert.deepEqual(r.operations.map((o) => o.id).sort(), Object.keys(EXPECTED).sort());
  for (const op of r.operations) {
    const want = oursPresent ? ["ours", ...EXPECTED[op.id]] : EXPECTED[op.id];
    for (const impl of want) {
      const x = op.results.find((res) => res.impl === impl);
      assert.ok(x, `${name} ${op.id}: no result for ${impl}`);
      assert.equal(x.status, "ok", `${name} ${op.id} ${impl}: ${JSON.stringify(x)}`);
      if (x.status !== "ok") continue;
      assert.ok(
        Number.isFinite(x.median) && x.median > 0,
        `${name} ${op.id} ${impl}: median ${x.median}`,
      );
      assert.ok(x.min <= x.median && x.median <= x.max);
      assert.equal(x.samples.length, x.n);
    }
  }
}

Deno.test("bench --quick over SHA and RSA-2048 writes latest.json with a figure from every peer", async () => {
  const out = await Deno.makeTempDir({ prefix: "roamsign-bench-smoke-" });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "bench/main.ts",
        "--quick",
        "--only",
        "sha,sign",
        "--sizes",
        "2048",
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
    assert.equal(r.schema, "roamsign-bench/1");
    assert.deepEqual(r.options.suites, ["sha", "sign"]);
    assert.deepEqual(r.problems, []);
    _checkRuntime("chromium", r.runtimes.chromium, r.ours.present);
    _checkRuntime("deno", r.runtimes.deno, r.ours.present);
    assert.ok(r.env.chromium, "Chromium version recorded");
    assert.equal(r.targets.length, 11);
    for (const t of r.targets) assert.ok(["met", "not met", "not measured"].includes(t.status));
    assert.match(stdout, /== targets \(issue 4/);
    const html = await Deno.readTextFile(`${out}/report.html`);
    assert.match(html, /<canvas data-bars=/);
    assert.match(html, /id="bench-data"/);
    assert.doesNotMatch(html, /<script[^>]+src=/, "report must not load external scripts");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
