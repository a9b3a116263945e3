/**
 * The shape of the codebase, measured: every `.ts` file's line count, its import
 * specifiers, the functions in it longer than a screen, the import cycles between
 * files and the imports that enter another top-level folder other than through its
 * `mod.ts`. Used by `tools/layout_report.ts` (prints it) and `tests/layout_test.ts`
 * (enforces it). Reads files as text; no TypeScript parser, so function lengths are
 * found by matching braces after a function head (good enough for a report, and
 * checked by hand against the files it names).
 *
 * @module
 */
/** The repository root (the folder above `tools/`). */
export const ROOT: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : path.slice(0, i);
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== "" && p !== ".").join("/");
}

/** `a/./b/../c` → `a/c` (relative paths; a leading `..` is kept). */
function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

/** Folders that hold no source of ours (build outputs, data, dependencies). */
const SKIP = [
  "node_modules",
  "data",
  "dist",
  ".git",
  "wasm-crypto/build",
  "bench/results",
];

/** The units that count as one top-level folder: `examples/<name>` are two deep. */
export function unitOf(path: string): string {
  const parts = path.split("/");
  if (parts.length === 1) return ".";
  if (parts[0] === "examples" && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0];
}

/** A test file: a `*_test.ts` or anything under `tests/`. */
export function isTest(path: string): boolean {
  return path.endsWith("_test.ts") || path.startsWith("tests/");
}

/** Files the 500-line rule leaves out: the page (split by the applet issue), generated code. */
export const LONG_FILE_EXCEPTIONS = ["applet/page.ts", "wasm-crypto/assembly/sha_rounds.ts"];

export interface SourceFile {
  path: string;
  lines: number;
  imports: string[];
  text: string;
}

/** Every `.ts` file below the root, relative paths with `/`. */
export async function listSources(root = ROOT): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  async function walk(dir: string) {
    for await (const e of Deno.readDir(dir ? `${root}/${dir}` : root)) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (SKIP.includes(rel) || e.name.startsWith(".")) continue;
      if (e.isDirectory) await walk(rel);
      else if (e.isFile && rel.endsWith(".ts")) {
        const text = await Deno.readTextFile(`${root}/${rel}`);
        out.push({
          path: rel,
          lines: text.split("\n").length - 1,
          imports: specifiers(text),
          text,
        });
      }
    }
  }
  await walk("");
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The text with comments, strings and template literals blanked (newlines kept). */
export function blank(text: string): string {
  let out = "";
  let i = 0;
  const n = text.length;
  const keepNl = (s: string) => s.replace(/[^\n]/g, " ");
  while (i < n) {
    const c = text[i];
    const d = text[i + 1];
    if (c === "/" && d === "/") {
      const j = text.indexOf("\n", i);
      const end = j < 0 ? n : j;
      out += keepNl(text.slice(i, end));
      i = end;
    } else if (c === "/" && d === "*") {
      const j = text.indexOf("*/", i + 2);
      const end = j < 0 ? n : j + 2;
      out += keepNl(text.slice(i, end));
      i = end;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < n && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      out += c + keepNl(text.slice(i + 1, j)) + c;
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The module specifiers a file imports or re-exports (static and dynamic). */
export function specifiers(text: string): string[] {
  const found: string[] = [];
  const re =
    /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  // Strip comments only (strings hold the specifiers).
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  for (const m of noComments.matchAll(re)) found.push(m[1] ?? m[2]);
  return found;
}

/** A relative specifier resolved against its file, or null for a package. */
export function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  return normalize(join(dirname(from), spec));
}

export interface DeepImport {
  from: string;
  to: string;
}

/**
 * Imports that enter another unit other than through its `mod.ts`. Tests under
 * `tests/` follow the same rule: they import other folders only through `mod.ts`
 * (and `tests/fixtures/` freely). A folder's own `*_test.ts` files are inside it.
 */
export function deepImports(files: SourceFile[]): DeepImport[] {
  const out: DeepImport[] = [];
  for (const f of files) {
    for (const spec of f.imports) {
      const to = resolve(f.path, spec);
      if (to === null) continue;
      const a = unitOf(f.path);
      const b = unitOf(to);
      if (a === b) continue;
      if (to === `${b}/mod.ts`) continue;
      out.push({ from: f.path, to });
    }
  }
  return out;
}

/** Import cycles between files (strongly connected components of size > 1, or self loops). */
export function importCycles(files: SourceFile[]): string[][] {
  const graph = new Map<string, string[]>();
  const known = new Set(files.map((f) => f.path));
  for (const f of files) {
    graph.set(
      f.path,
      f.imports.map((s) => resolve(f.path, s)).filter((t): t is string =>
        t !== null && known.has(t)
      ),
    );
  }
  // Tarjan's algorithm.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const sccs: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) sccs.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return sccs;
}

export interface LongFunction {
  path: string;
  name: string;
  line: number;
  lines: number;
}

const CONTROL = new Set(["if", "for", "while", "switch", "catch", "with", "return", "function"]);

/**
 * Functions (declarations, arrows with a block body, methods) longer than `max`
 * lines, counted from the head's line to the closing brace's line. Nested
 * functions are measured on their own too.
 */
export function longFunctions(file: SourceFile, max = 80): LongFunction[] {
  const src = blank(file.text);
  const lineAt: number[] = [];
  let line = 1;
  for (let i = 0; i < src.length; i++) {
    lineAt.push(line);
    if (src[i] === "\n") line++;
  }
  // Matching braces.
  const close = new Map<number, number>();
  const open: number[] = [];
  for (let i = 0; i < src.length; i++) {
    if (src[i] === "{") open.push(i);
    else if (src[i] === "}") {
      const o = open.pop();
      if (o !== undefined) close.set(o, i);
    }
  }
  const out: LongFunction[] = [];
  for (const [o, c] of close) {
    const before = src.slice(Math.max(0, o - 400), o);
    let name: string | null = null;
    let head = o;
    let m: RegExpMatchArray | null;
    if ((m = before.match(/=>\s*$/))) {
      const decl = before.match(/(?:const|let|var)\s+([\w$]+)[^;{}]*=>\s*$/) ??
        before.match(/([\w$]+)\s*:\s*(?:async\s*)?\([^;{}]*=>\s*$/);
      name = decl ? decl[1] : "(arrow)";
      head = o - (decl ? decl[0].length : m[0].length);
    } else if (
      (m = before.match(/function\s*\*?\s*([\w$]*)\s*(?:<[^{}]*>)?\s*\([^{}]*\)[^{};]*$/))
    ) {
      name = m[1] || "(function)";
      head = o - m[0].length;
    } else if (
      (m = before.match(
        /(?:^|[\s;{}])(?:(?:async|static|private|public|get|set)\s+)*([\w$]+)\s*(?:<[^{}]*>)?\s*\([^{};]*\)\s*(?::[^{};=]*)?$/,
      ))
    ) {
      if (!CONTROL.has(m[1])) {
        name = m[1];
        head = o - m[0].length;
      }
    }
    if (name === null) continue;
    const startLine = lineAt[Math.max(0, head)] ?? 1;
    const lines = lineAt[c] - startLine + 1;
    if (lines > max) out.push({ path: file.path, name, line: startLine, lines });
  }
  return out.sort((a, b) => a.line - b.line);
}

/** Whether a file is production source (not a test, not under tests/ or tools/). */
export function isProduction(path: string): boolean {
  return !isTest(path) && !path.startsWith("tools/");
}

export interface LayoutReport {
  longFiles: { path: string; lines: number }[];
  longFunctions: LongFunction[];
  cycles: string[][];
  deep: DeepImport[];
}

/** The four measures over the whole tree. */
export async function measure(root = ROOT): Promise<LayoutReport> {
  const files = await listSources(root);
  const prod = files.filter((f) => isProduction(f.path));
  return {
    longFiles: prod.filter((f) => f.lines > 500).map((f) => ({ path: f.path, lines: f.lines })),
    longFunctions: prod.filter((f) => !f.path.startsWith("wasm-crypto/"))
      .flatMap((f) => longFunctions(f)),
    cycles: importCycles(files),
    deep: deepImports(files),
  };
}
