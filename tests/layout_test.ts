/**
 * The shape of the codebase (docs/architecture.md "Layout rules"), enforced:
 * imports between top-level folders go through that folder's `mod.ts`, no import
 * cycles, production files stay under 500 lines and functions under 80. Fast: reads
 * files as text (tools/layout.ts).
 *
 * @module
 */
import { assert } from "./fixtures/assert.ts";
import {
  deepImports,
  importCycles,
  isTest,
  listSources,
  longFunctions,
  type SourceFile,
} from "../tools/mod.ts";

const files: SourceFile[] = await listSources();

/**
 * Imports that may enter another folder's inside, each with its reason. Test code
 * (`*_test.ts`, `tests/`) may also import `tests/fixtures/` freely, and the
 * dev tools in `tools/` (never shipped; they measure and probe internals) any folder.
 */
const ALLOWED_DEEP: Record<string, string> = {
  "server/build.ts -> wasm-crypto/build.ts":
    "wasm-crypto's build entry, its second face: mod.ts is what the applet bundles, and the build needs asc",
};

/** Known debt: cycles, files and functions owned by other changes; the lists may only shrink. */
const KNOWN_CYCLES: string[] = [];
const LONG_FILE_EXEMPT = (p: string) => p.startsWith("wasm-crypto/");
const KNOWN_LONG_FILES: string[] = [];
const FUNCTION_RULE_FOLDERS = [
  "documents/",
  "server/",
  "key-vault/",
  "applet/",
  "proxy/",
  "protocol/",
  "platform/",
];
const KNOWN_LONG_FUNCTIONS: string[] = [
  // A table of DDL (the initial schema, one statement per table): long, not doing several things.
  "key-vault/migrations/20261124_0001_initial.ts up",
];

Deno.test("imports between top-level folders go through mod.ts", () => {
  const bad = deepImports(files)
    .filter((d) => !(d.to.startsWith("tests/fixtures/") && isTest(d.from)))
    .filter((d) => !d.from.startsWith("tools/"))
    .map((d) => `${d.from} -> ${d.to}`)
    .filter((d) => !(d in ALLOWED_DEEP));
  assert(bad.length === 0, `deep imports:\n  ${bad.join("\n  ")}`);
});

Deno.test("production code and bench/ never import tests/ (the shared harness is harness/)", () => {
  const bad = files.filter((f) => !isTest(f.path) && !/^tools\//.test(f.path))
    .flatMap((f) => deepImports([f]))
    .filter((d) => d.to.startsWith("tests/"));
  assert(bad.length === 0, bad.map((d) => `${d.from} -> ${d.to}`).join("\n"));
});

Deno.test("protocol/ is browser-safe: no Deno, Node or server imports", () => {
  const bad = files.filter((f) => f.path.startsWith("protocol/") && !isTest(f.path))
    .filter((f) =>
      f.imports.some((s) => !s.startsWith("./")) || /\bDeno\.|from "node:/.test(f.text)
    )
    .map((f) => f.path);
  assert(bad.length === 0, bad.join(", "));
});

Deno.test("no import cycles", () => {
  const cycles = importCycles(files).map((c) => c.join(" -> "))
    .filter((c) => !KNOWN_CYCLES.includes(c));
  assert(cycles.length === 0, `cycles:\n  ${cycles.join("\n  ")}`);
});

Deno.test("no production file over 500 lines", () => {
  const long = files.filter((f) => !isTest(f.path) && !f.path.startsWith("tools/"))
    .filter((f) => f.lines > 500 && !LONG_FILE_EXEMPT(f.path));
  const fresh = long.filter((f) => !KNOWN_LONG_FILES.includes(f.path));
  assert(fresh.length === 0, fresh.map((f) => `${f.path} (${f.lines})`).join(", "));
  const fixed = KNOWN_LONG_FILES.filter((p) => !long.some((f) => f.path === p));
  assert(fixed.length === 0, `no longer long, drop from KNOWN_LONG_FILES: ${fixed.join(", ")}`);
});

Deno.test("no function over 80 lines in the application folders", () => {
  const long = files
    .filter((f) => !isTest(f.path) && FUNCTION_RULE_FOLDERS.some((d) => f.path.startsWith(d)))
    .flatMap((f) => longFunctions(f))
    .map((f) => `${f.path} ${f.name}`);
  const fresh = long.filter((f) => !KNOWN_LONG_FUNCTIONS.includes(f));
  assert(fresh.length === 0, `functions over 80 lines:\n  ${fresh.join("\n  ")}`);
  const fixed = KNOWN_LONG_FUNCTIONS.filter((f) => !long.includes(f));
  assert(fixed.length === 0, `no longer long, drop from KNOWN_LONG_FUNCTIONS: ${fixed.join(", ")}`);
});
