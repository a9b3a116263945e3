import { registry } from "../platform/mod.ts";
import { registerVaultGauges } from "./metrics.ts";
import type { VaultState } from "./state.ts";
import { registerWebGauges } from "../server/mod.ts";
import { assert } from "../tests/fixtures/assert.ts";

Deno.test("docs/alerts.yml and docs/operations.md name only metrics the processes export", async () => {
  // Registration reads nothing from the vault; the gauges query it only when scraped.
  registerVaultGauges({} as VaultState);
  registerWebGauges({ size: 0, kind: "redis", check: () => Promise.resolve() });
  const exported = new Set(registry.getMetricsAsArray().map((m) => m.name));
  for (const file of ["alerts.yml", "operations.md"]) {
    const text = await Deno.readTextFile(new URL(`../docs/${file}`, import.meta.url));
    const named = new Set(
      [...text.matchAll(/\broamsign_[a-z_]+\b/g)].map((m) =>
        m[0].replace(/_(bucket|sum|count)$/, "")
      ),
    );
    assert(named.size > 5, `${file} names metrics`);
    for (const name of named) assert(exported.has(name), `${file}: ${name} is not exported`);
  }
});

Deno.test("docs/threat-model.md and docs/operations.md cite tests that exist, by their names", async () => {
  const root = new URL("../", import.meta.url);
  let cited = 0;
  for (const doc of ["docs/threat-model.md", "docs/operations.md"]) {
    const text = (await Deno.readTextFile(new URL(doc, root))).replace(/\s+/g, " ");
    // `path/to/x_test.ts` "test or step name", "another name" …
    for (const m of text.matchAll(/`([\w/.-]+_test\.ts)`([^`;)]*)/g)) {
      const source = (await Deno.readTextFile(new URL(m[1], root))).replace(/\s+/g, " ");
      for (const [, name] of m[2].matchAll(/"([^"]+)"/g)) {
        const probe = name.replace(/\s*…$/, "");
        assert(source.includes(probe), `${doc}: ${m[1]} has no test named "${name}"`);
        cited++;
      }
    }
  }
  assert(cited > 30, `only ${cited} citations found`);
});
