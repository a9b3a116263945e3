import { assert, assertEquals } from "./test_assert.ts";
import { buildWasm, compileWasm } from "./build.ts";
import { hex } from "./test_util.ts";

Deno.test("the build is reproducible: compiling again gives the same bytes", async () => {
  const built = await buildWasm();
  const again = await compileWasm();
  assertEquals(hex(again), hex(built.bytes));
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", again as Uint8Array<ArrayBuffer>),
  );
  assertEquals(hex(digest), built.sha256);
});

Deno.test("buildWasm() skips the compile when nothing changed, and the module is small", async () => {
  await buildWasm();
  const t0 = performance.now();
  const r = await buildWasm();
  assert(performance.now() - t0 < 500, "second build should come from the stamp");
  assert(r.path.endsWith("wasm-crypto/build/roamsign.wasm"));
  assert(r.bytes.length < 64 * 1024, `module is ${r.bytes.length} bytes`);
  // the exports the wrapper needs, and no imports beyond env.abort
  const module = await WebAssembly.compile(r.bytes as Uint8Array<ArrayBuffer>);
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  for (
    const name of [
      "memory",
      "rsa_private",
      "rsa_public",
      "mod_pow",
      "sha256_update",
      "kg_candidate",
    ]
  ) {
    assert(exports.includes(name), `missing export ${name}`);
  }
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
  assert(imports.every((i) => i === "env.abort"), `unexpected imports ${imports}`);
});

Deno.test("the relaxed build is reproducible too", async () => {
  const built = await buildWasm();
  const again = await compileWasm("relaxed");
  assertEquals(hex(again), hex(built.relaxed.bytes));
});
