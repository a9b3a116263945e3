import { assert } from "../tests/fixtures/assert.ts";

Deno.test("proxy/mod.ts pulls in no database code (kysely, pg, PGlite, key-vault/)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("./mod.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  // `modules` is the import graph (npm entries appear as npm:/name@version);
  // `npmPackages` lists the whole lock snapshot, so it is not used.
  const names: string[] = info.modules.map((m: { specifier: string }) => m.specifier);
  const bad = names.filter((n) =>
    /kysely|pglite|\/key-vault\/|(^|\/)pg@|pg-pool|pg-protocol/.test(n)
  );
  assert(bad.length === 0, bad.join(", "));
  assert(names.some((n) => n.endsWith("/platform/ops.ts")), "the walk saw the proxy's modules");
});
