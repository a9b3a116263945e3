/**
 * Prints the shape of the codebase: production files over 500 lines, functions over
 * 80 lines, import cycles and deep imports between top-level folders
 * (`deno run -A tools/layout_report.ts`). `tests/layout_test.ts` enforces the same
 * measures.
 *
 * @module
 */
import { measure } from "./layout.ts";

if (import.meta.main) {
  const r = await measure();
  console.log(`files over 500 lines (production): ${r.longFiles.length}`);
  for (const f of r.longFiles) console.log(`  ${f.lines}\t${f.path}`);
  console.log(
    `functions over 80 lines (production, outside wasm-crypto/): ${r.longFunctions.length}`,
  );
  for (const f of r.longFunctions) console.log(`  ${f.lines}\t${f.path}:${f.line} ${f.name}`);
  console.log(`import cycles: ${r.cycles.length}`);
  for (const c of r.cycles) console.log(`  ${c.join(" -> ")}`);
  console.log(`deep imports between top-level folders: ${r.deep.length}`);
  for (const d of r.deep) console.log(`  ${d.from} -> ${d.to}`);
}
