import assert from "node:assert/strict";
import { DEFAULT_SUITES, parseOptions } from "./cli.ts";

const KNOWN = [...DEFAULT_SUITES, "vault"];

Deno.test("parseOptions() defaults to every default suite, both runtimes, full rounds", () => {
  const o = parseOptions([], KNOWN);
  assert.deepEqual(o.suites, DEFAULT_SUITES);
  assert.deepEqual(o.runtimes, ["chromium", "deno"]);
  assert.deepEqual(o.rsaSizes, [2048, 3072, 4096]);
  assert.equal(o.rounds, 21);
  assert.equal(o.keys, 20);
  assert.equal(o.documentRuns, 11);
  assert.equal(o.quick, false);
});

Deno.test("parseOptions() expands the rsa alias and keeps order without duplicates", () => {
  const o = parseOptions(["--only", "sha,rsa,sign"], KNOWN);
  assert.deepEqual(o.suites, ["sha", "sign", "oaep", "keygen", "modpow"]);
});

Deno.test("parseOptions() --quick lowers rounds, keys and dudect samples", () => {
  const o = parseOptions(["--quick"], KNOWN);
  assert.equal(o.rounds, 5);
  assert.equal(o.keys, 3);
  assert.equal(o.dudectSamples, 3000);
  assert.equal(o.documentRuns, 3);
});

Deno.test("parseOptions() rejects an unknown suite, size or runtime", () => {
  assert.throws(() => parseOptions(["--only", "speed"], KNOWN), /unknown suite "speed"/);
  assert.throws(() => parseOptions(["--sizes", "1024"], KNOWN), /--sizes/);
  assert.throws(() => parseOptions(["--runtime", "firefox"], KNOWN), /--runtime/);
  assert.throws(() => parseOptions(["--rounds", "0"], KNOWN), /--rounds/);
  assert.throws(() => parseOptions(["--document-runs", "0"], KNOWN), /--document-runs/);
  assert.throws(() => parseOptions(["--bogus"], KNOWN));
});

Deno.test("parseOptions() accepts a suite registered in main.ts", () => {
  assert.deepEqual(parseOptions(["--only", "vault"], KNOWN).suites, ["vault"]);
});
