/**
 * `deno task verify-applet` (server/verify_applet.ts, docs/verify-applet.md) against a
 * real web server: identical when nothing changed, exit 1 naming the file when one
 * served byte differs, exit 1 when the auditor's anchors are not the ones the
 * deployment linked, 64 on bad arguments, 69 when nothing answers.
 */
import { assertEquals, assertOk, assertThrows } from "../fixtures/assert.ts";
import { startStack } from "../../harness/mod.ts";
import { makeTestCa } from "../fixtures/test_ca.ts";
import {
  parseVerifyAppletArgs as parseArgs,
  VerifyAppletUsageError as UsageError,
} from "../../server/mod.ts";

const _ROOT = new URL("../../", import.meta.url).pathname;

async function verify(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "verify-applet", "--", ...args],
    cwd: _ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("verify-applet: bad arguments exit 64", async () => {
  for (const args of [[], ["--url"], ["--url", "not a url"], ["--url", "ftp://x"], ["--what"]]) {
    assertThrows(() => parseArgs(args), UsageError);
  }
  assertEquals(parseArgs(["--", "--url", "http://x", "--json"]), {
    url: "http://x",
    anchorsFile: undefined,
    json: true,
  });
  const r = await verify("--url", "http://127.0.0.1:8000", "--what");
  assertEquals(r.code, 64, r.err);
  assertOk(r.err.includes("usage:"), r.err);
  const missing = await verify("--url", "http://127.0.0.1:8000", "--anchors", "/nonexistent");
  assertEquals(missing.code, 64, missing.err);
});

Deno.test("verify-applet: a deployment that does not answer exits 69", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // a port nobody listens on
  const r = await verify("--url", `http://127.0.0.1:${port}`);
  assertEquals(r.code, 69, r.err);
  assertOk(r.err.includes("unreachable"), r.err);
});

Deno.test({
  name: "[slow] verify-applet against a running web server",
  ignore: Deno.env.get("ROAMSIGN_SLOW_TESTS") !== "1",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ web: true });
    const url = stack.webUrl!;
    const dist = `${stack.dataDir}/dist`;
    const manifest = JSON.parse(await Deno.readTextFile(`${dist}/manifest.json`));
    try {
      await t.step("the served applet is the reproducible build: exit 0", async () => {
        const r = await verify("--url", url, "--json");
        assertEquals(r.code, 0, r.out + r.err);
        const v = JSON.parse(r.out);
        assertEquals(v.identical, true);
        assertEquals(v.anchorsFrom, "served-manifest");
        assertEquals(v.anchors, await stack.anchors());
        // every listed file and the manifest itself
        assertEquals(
          [...v.identicalFiles].sort(),
          [...Object.keys(manifest.files), "/.well-known/roamsign/manifest.json"].sort(),
        );
      });

      await t.step("with the deployment's anchors from a file: exit 0, no warning", async () => {
        const file = await Deno.makeTempFile({ suffix: ".json" });
        await Deno.writeTextFile(file, JSON.stringify(await stack.anchors()));
        const r = await verify("--url", url, "--anchors", file);
        await Deno.remove(file);
        assertEquals(r.code, 0, r.out + r.err);
        assertOk(!r.out.includes("TRUST ANCHORS TAKEN FROM"), r.out);
        assertOk(r.out.includes("IDENTICAL"), r.out);
      });

      await t.step("without --anchors the served anchors are printed with a warning", async () => {
        const r = await verify("--url", url);
        assertEquals(r.code, 0, r.out + r.err);
        assertOk(r.out.includes("TRUST ANCHORS TAKEN FROM THE DEPLOYMENT'S OWN MANIFEST"), r.out);
        assertOk(r.out.includes((await stack.anchors()).caSpkiSha256), r.out);
      });

      await t.step("one byte of the served worker differs: exit 1 naming the file", async () => {
        const path = manifest.entries.worker as string;
        const file = `${dist}${path}`;
        const original = await Deno.readFile(file);
        const changed = original.slice();
        changed[changed.length >> 1] ^= 0x01;
        await Deno.writeFile(file, changed);
        try {
          const r = await verify("--url", url, "--json");
          assertEquals(r.code, 1, r.out + r.err);
          const v = JSON.parse(r.out);
          assertEquals(v.differences, [{
            path,
            kind: "different",
            expected: manifest.files[path].sha256,
            got: await sha256Hex(changed),
          }]);
          const text = await verify("--url", url);
          assertEquals(text.code, 1);
          assertOk(text.out.includes(`DIFFERENT  ${path}`), text.out);
        } finally {
          await Deno.writeFile(file, original);
        }
      });

      await t.step("a file the served manifest lists but the build has not: exit 1", async () => {
        const original = await Deno.readTextFile(`${dist}/manifest.json`);
        const m = JSON.parse(original);
        const extra = `/applet/${"ab".repeat(32)}.js`;
        m.files[extra] = { sha256: "ab".repeat(32), size: 1, type: "text/javascript" };
        await Deno.writeTextFile(`${dist}/manifest.json`, JSON.stringify(m, null, 2) + "\n");
        try {
          const r = await verify("--url", url, "--json");
          assertEquals(r.code, 1, r.out + r.err);
          const kinds = JSON.parse(r.out).differences.map((d: { path: string; kind: string }) =>
            `${d.kind} ${d.path}`
          );
          assertEquals(kinds.sort(), [
            "different /.well-known/roamsign/manifest.json",
            `extra ${extra}`,
          ]);
        } finally {
          await Deno.writeTextFile(`${dist}/manifest.json`, original);
        }
      });

      await t.step("the auditor's anchors are not the deployment's: exit 1", async () => {
        const other = await (await makeTestCa()).anchors();
        const file = await Deno.makeTempFile({ suffix: ".json" });
        await Deno.writeTextFile(file, JSON.stringify(other));
        const r = await verify("--url", url, "--anchors", file, "--json");
        await Deno.remove(file);
        assertEquals(r.code, 1, r.out + r.err);
        const paths = JSON.parse(r.out).differences.map((d: { path: string }) => d.path).sort();
        // The worker (anchors linked in) differs, so does every file that names it.
        assertOk(paths.includes("/"), paths.join(" "));
        assertOk(paths.includes("/.well-known/roamsign/manifest.json"), paths.join(" "));
        assertOk(paths.some((p: string) => p.endsWith(".js")), paths.join(" "));
      });
    } finally {
      await stack.stop();
    }
  },
});

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}
