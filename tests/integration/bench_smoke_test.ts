/**
 * Smoke tests of `deno task bench`: a quick run over SHA and RSA-2048 sign/verify in
 * Chromium and Deno must produce latest.json of the documented shape, a figure from
 * every implementation that offers the operation (none may fail its correctness
 * check), and a self-contained report.html; a quick run of the `documents` suite (a
 * 10 MiB PDF signed in the applet page) must check its outputs and give every figure.
 */
import assert from "node:assert/strict";
import type { BenchResult, DocumentsResult, RuntimeResult } from "../../bench/mod.ts";
import { haveChromium } from "../fixtures/browser.ts";

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
  const { r, stdout, html } = await _bench(["--quick", "--only", "sha,sign", "--sizes", "2048"]);
  assert.equal(r.schema, "roamsign-bench/1");
  assert.deepEqual(r.options.suites, ["sha", "sign"]);
  assert.deepEqual(r.problems, []);
  _checkRuntime("chromium", r.runtimes.chromium, r.ours.present);
  _checkRuntime("deno", r.runtimes.deno, r.ours.present);
  assert.ok(r.env.chromium, "Chromium version recorded");
  // issue 4's 10, issue 3's vault target, issue 20's 12
  assert.equal(r.targets.length, 23);
  for (const t of r.targets) assert.ok(["met", "not met", "not measured"].includes(t.status));
  assert.match(stdout, /== targets \(issues 4 and 20/);
  assert.match(stdout, /\(20\) applet first load ≤ 150 KB gzipped\s+(MET|NOT MET)/);
  assert.match(html, /<canvas data-bars=/);
  assert.match(html, /id="bench-data"/);
  assert.doesNotMatch(html, /<script[^>]+src=/, "report must not load external scripts");
});

/** Runs `deno task bench` with `args` and `--out` a fresh directory; returns its result. */
async function _bench(args: string[]): Promise<{ r: BenchResult; stdout: string; html: string }> {
  const out = await Deno.makeTempDir({ prefix: "roamsign-bench-smoke-" });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "bench/main.ts", ...args, "--out", out],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, `bench exited ${run.code}\n${stdout}\n${stderr.slice(-3000)}`);
    return {
      r: JSON.parse(await Deno.readTextFile(`${out}/latest.json`)) as BenchResult,
      stdout,
      html: await Deno.readTextFile(`${out}/report.html`),
    };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

Deno.test({
  name:
    "[slow] bench --quick --only documents signs a 10 MiB PDF in the page and gives every figure",
  ignore: !haveChromium(),
  fn: async () => {
    const { r, stdout, html } = await _bench(["--quick", "--only", "documents"]);
    assert.deepEqual(r.options.suites, ["documents"]);
    assert.deepEqual(r.problems, []);
    const d = r.suites.documents as DocumentsResult;
    assert.equal(d.kind, "documents", JSON.stringify(r.suites.documents));
    assert.equal(d.document.bytes, 10 * 1024 * 1024);
    assert.equal(d.document.pages, 4);
    assert.equal(d.runs, 3);
    for (const [id, f] of Object.entries(d.timesMs)) {
      assert.equal(f.samples.length, 3, id);
      assert.ok(f.samples.every((x) => Number.isFinite(x) && x > 0), `${id}: ${f.samples}`);
      assert.ok(f.min <= f.median && f.median <= f.max, id);
    }
    const t = d.timesMs;
    assert.ok(t.hash.max <= t.inspect.max, "the hash is part of choosing the file");
    assert.ok(t.prepare.median < t.sign.median && t.signStamp.median < t.sign.median);
    assert.ok(d.hashRatio.vsWebcrypto.median > 0 && d.hashRatio.vsDigestOnly.median > 0);
    // the signed PDF keeps the original bytes and adds a signature
    assert.ok(d.check.signedPdfBytes > d.document.bytes && d.check.p7sBytes > 1_000);
    // signing a 10 MiB PDF holds at least one copy of it in the renderer at its peak
    assert.ok(d.memory.rendererPeakKiB.sign.median > 10 * 1024, JSON.stringify(d.memory));
    const realms = d.memory.realms.afterSign.map((x) => x.realm);
    for (const realm of ["page (main thread)", "signing worker", "document worker"]) {
      assert.ok(realms.includes(realm), `${realm} in ${realms}`);
    }
    assert.match(stdout, /== documents \(issue 17/);
    assert.match(stdout, /hash ours ÷ WebCrypto read \+ digest: /);
    assert.match(html, /Documents: sign a 10 MiB PDF/);
  },
});
