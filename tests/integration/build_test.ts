/**
 * The applet build: the same sources give the same hashes (two independent
 * builds into two directories), an unchanged tree is not rebuilt, and a
 * missing output is.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { buildApplet } from "../../server/mod.ts";
import { makeTestCa } from "../fixtures/test_ca.ts";

const anchors = await (await makeTestCa()).anchors();

Deno.test({
  name: "[slow] buildApplet() is reproducible: same sources, same hashes and bytes",
  fn: async () => {
    const a = await Deno.makeTempDir({ prefix: "roamsign-build-a-" });
    const b = await Deno.makeTempDir({ prefix: "roamsign-build-b-" });
    try {
      const ra = await buildApplet({ outDir: a, force: true, anchors });
      const rb = await buildApplet({ outDir: b, force: true, anchors });
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
      // html, page, worker, strength worker, document worker, style, icon, two wasm builds,
      // the OPAQUE wasm
      assertEquals(Object.keys(ra.manifest.files).length, 10);
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
      const first = await buildApplet({ outDir: dir, anchors });
      assertEquals(first.rebuilt, true);
      const t0 = performance.now();
      const second = await buildApplet({ outDir: dir, anchors });
      assertEquals(second.rebuilt, false);
      assertOk(performance.now() - t0 < 5_000, "an up-to-date check is quick");
      assertEquals(second.manifest, first.manifest);
      await Deno.remove(`${dir}${first.manifest.entries.worker}`);
      const third = await buildApplet({ outDir: dir, anchors });
      assertEquals(third.rebuilt, true);
      assertEquals(third.manifest, first.manifest);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "[slow] buildApplet() links the anchors into the worker only, and refuses to build without them",
  fn: async () => {
    const a = await Deno.makeTempDir({ prefix: "roamsign-build-a-" });
    const b = await Deno.makeTempDir({ prefix: "roamsign-build-b-" });
    const empty = await Deno.makeTempDir({ prefix: "roamsign-build-nodata-" });
    try {
      const other = await (await makeTestCa()).anchors();
      const ra = await buildApplet({ outDir: a, anchors });
      const rb = await buildApplet({ outDir: b, anchors: other });
      assertEquals(ra.manifest.anchors, anchors, "the manifest lists the anchors");
      assertEquals(rb.manifest.anchors, other);
      for (const role of ["page", "wasm", "wasmRelaxed", "opaque", "style", "strength"] as const) {
        assertEquals(
          ra.manifest.entries[role],
          rb.manifest.entries[role],
          `${role} is anchor-free`,
        );
      }
      assertOk(
        ra.manifest.entries.worker !== rb.manifest.entries.worker,
        "the worker carries them",
      );
      const worker = await Deno.readTextFile(`${a}${ra.manifest.entries.worker}`);
      assertOk(worker.includes(anchors.vaultSigningSpki), "the statement key is in the worker");
      assertOk(!worker.includes("__ROAMSIGN_LINK__"), "no placeholder is left");
      const html = await Deno.readTextFile(`${a}/index.html`);
      assertOk(html.includes(`content="${ra.manifest.entries.worker}" data-integrity="sha384-`));
      assertOk(
        html.includes(
          `name="roamsign-strength" content="${ra.manifest.entries.strength}" data-integrity="sha384-`,
        ),
        "the page names the strength worker and its SRI hash",
      );
      assertOk(
        html.includes(
          `name="roamsign-documents" content="${ra.manifest.entries.documents}" data-integrity="sha384-`,
        ),
        "the page names the document worker and its SRI hash",
      );
      const documents = await Deno.readTextFile(`${a}${ra.manifest.entries.documents}`);
      assertOk(!documents.includes("__ROAMSIGN_LINK__"), "the document worker is linked too");
      assertOk(documents.includes(ra.manifest.entries.wasm), "it names the wasm it checks");
      const err = await buildApplet({ outDir: empty, dataDir: empty }).then(() => null, (e) => e);
      assertEquals((err as { code?: string })?.code, "no_anchors");
      assertEquals([...Deno.readDirSync(empty)].length, 0, "nothing was written");
    } finally {
      for (const d of [a, b, empty]) await Deno.remove(d, { recursive: true });
    }
  },
});
