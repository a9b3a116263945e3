import { appletCheck } from "./operator.ts";
import { runReadiness } from "../platform/mod.ts";
import { assert } from "../tests/fixtures/assert.ts";

Deno.test("/readyz applet check: not built, built, a listed file changed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "roamsign-dist-" });
  try {
    const check = { applet: appletCheck(dir) };
    let r = await runReadiness(check);
    assert(!r.ok && r.checks.applet === "failed: not built", JSON.stringify(r));
    await Deno.mkdir(`${dir}/applet`);
    await Deno.writeTextFile(`${dir}/index.html`, "<!doctype html>");
    await Deno.writeTextFile(`${dir}/applet/a.js`, "x");
    await Deno.writeTextFile(
      `${dir}/manifest.json`,
      JSON.stringify({ version: 1, files: { "/applet/a.js": { sha256: "", size: 1, type: "" } } }),
    );
    r = await runReadiness(check);
    assert(r.ok && r.checks.applet === "ok", JSON.stringify(r));
    await Deno.writeTextFile(`${dir}/applet/a.js`, "xy");
    r = await runReadiness(check);
    assert(r.checks.applet === "failed: missing or changed: /applet/a.js", JSON.stringify(r));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/readyz: a check that hangs fails with 'timed out', the others still answer", async () => {
  let release = () => {};
  const r = await runReadiness({
    slow: () => new Promise<void>((resolve) => (release = resolve)),
    fine: () => Promise.resolve(),
  }, 50);
  release();
  assert(
    !r.ok && r.checks.slow === "failed: timed out" && r.checks.fine === "ok",
    JSON.stringify(r),
  );
});
