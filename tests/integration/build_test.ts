/**
 * The applet build: the same sources give the same hashes (two independent
 * builds into two directories), an unchanged tree is not rebuilt, and a
 * missing output is.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { buildApplet } from "../../server/mod.ts";

Deno.test({
  name: "[slow] buildApplet() is reproducible: same sources, same hashes and bytes",
  fn: async () => {
    const a = await Deno.makeTempDir({ prefix: "roamsign-build-a-" });
    const b = await Deno.makeTempDir({ prefix: "roamsign-build-b-" });
    try {
      const ra = await buildApplet({ outDir: a, force: true });
      const rb = await buildApplet({ outDir: b, force: true });
      assertEquals(ra.manifest, rb.manifest);
      for (const path of Object.keys(ra.manifest.files)) {
        const name = path === "/" ? "index.html" : path.slice(1);
        const [x, y] = await Promise.all([
          Deno.readFile(`${a}/${name}`),
          Deno.readFile(`${b}/${name}`),
        ]);
        assertEquals(x, y, path);
        const hex = Array.from(
          new Uint8Array(await crypto.subtle.digest("SHA-256", x)),
          (v) => v.toString(16).padStart(2, "0"),
        ).join("");
        assertEquals(hex, ra.manifest.files[path].sha256, `manifest hash of ${path}`);
        if (path !== "/") assertOk(path.includes(hex), `${path} is named by its hash`);
      }
      assertEquals(Object.keys(ra.manifest.files).length, 6); // html, page, worker, style, two wasm builds
    } finally {
      await Deno.remove(a, { recursive: true });
      await Deno.remove(b, { recursive: true });
    }
  },
});

Deno.test({
  name: "[slow] buildApplet() skips an unchanged tree and rebuilds a missing output",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "roamsign-build-" });
    try {
      const first = await buildApplet({ outDir: dir });
      assertEquals(first.rebuilt, true);
      const t0 = performance.now();
      const second = await buildApplet({ outDir: dir });
      assertEquals(second.rebuilt, false);
      assertOk(performance.now() - t0 < 5_000, "an up-to-date check is quick");
      assertEquals(second.manifest, first.manifest);
      await Deno.remove(`${dir}${first.manifest.entries.worker}`);
      const third = await buildApplet({ outDir: dir });
      assertEquals(third.rebuilt, true);
      assertEquals(third.manifest, first.manifest);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
