/**
 * The applet's transfer size per manifest role, gzipped (level 9, as
 * tests/e2e/measure.ts counts it: the baseline wasm is left out where the relaxed build
 * exists, the workers loaded on demand (strength, documents) are reported apart). Builds into a temporary
 * directory with throw-away anchors (bench/applet.ts); needs no stack or browser.
 *
 * Run: `deno run -A tools/applet/weight.ts`
 *
 * @module
 */
import { appletBundle } from "../../bench/applet.ts";
import { gzipSize, ON_DEMAND_ROLES } from "../../bench/weight.ts";

const applet = await appletBundle();
if ("unavailable" in applet) throw new Error(applet.unavailable);
const ON_DEMAND = ON_DEMAND_ROLES;
let total = 0;
const rows: string[] = [];
for (const f of applet.files) {
  if (f.role === "wasm" && applet.files.some((g) => g.role === "wasmRelaxed")) continue;
  const gz = gzipSize(f.bytes);
  if (!ON_DEMAND.has(f.role)) total += gz;
  rows.push(
    `${f.role.padEnd(12)} ${String(f.bytes.length).padStart(8)} raw ${String(gz).padStart(8)} gz${
      ON_DEMAND.has(f.role) ? "  (on demand)" : ""
    }`,
  );
}
console.log(rows.join("\n"));
console.log(`${"total".padEnd(12)} ${String(total).padStart(21)} gz (loaded at start)`);
