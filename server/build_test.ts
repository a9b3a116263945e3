import { assertEquals, assertOk } from "../tests/fixtures/assert.ts";
import { sourceFingerprint } from "./build.ts";

async function tree(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "roamsign-fp-" });
  await Deno.mkdir(`${root}/applet/protocol`, { recursive: true });
  await Deno.mkdir(`${root}/wasm-crypto/build`, { recursive: true });
  await Deno.writeTextFile(`${root}/applet/page.ts`, "export const a = 1;\n");
  await Deno.writeTextFile(`${root}/applet/protocol/x.ts`, "export const x = 1;\n");
  await Deno.writeTextFile(`${root}/deno.json`, "{}\n");
  return root;
}

Deno.test("sourceFingerprint() changes when a source byte changes", async () => {
  const root = await tree();
  const before = await sourceFingerprint(root);
  assertEquals(before, await sourceFingerprint(root));
  await Deno.writeTextFile(`${root}/applet/protocol/x.ts`, "export const x = 2;\n");
  assertOk(before !== await sourceFingerprint(root));
});

Deno.test("sourceFingerprint() changes when a source file is added or renamed", async () => {
  const root = await tree();
  const before = await sourceFingerprint(root);
  await Deno.rename(`${root}/applet/page.ts`, `${root}/applet/page2.ts`);
  const renamed = await sourceFingerprint(root);
  assertOk(before !== renamed);
  await Deno.writeTextFile(`${root}/applet/style.css`, "body{}\n");
  assertOk(renamed !== await sourceFingerprint(root));
});

Deno.test("sourceFingerprint() covers word lists (.txt) the bundles import", async () => {
  const root = await tree();
  await Deno.writeTextFile(`${root}/applet/protocol/words.txt`, "11111\tabacus\n");
  const before = await sourceFingerprint(root);
  await Deno.writeTextFile(`${root}/applet/protocol/words.txt`, "11111\tabacas\n");
  assertOk(before !== await sourceFingerprint(root));
});

Deno.test("sourceFingerprint() ignores tests and build outputs", async () => {
  const root = await tree();
  const before = await sourceFingerprint(root);
  await Deno.writeTextFile(`${root}/applet/page_test.ts`, "Deno.test('x', () => {});\n");
  await Deno.writeFile(
    `${root}/wasm-crypto/build/roamsign.wasm`,
    new Uint8Array([0, 97, 115, 109]),
  );
  assertEquals(await sourceFingerprint(root), before);
});
