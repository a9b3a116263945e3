/**
 * Builds the crypto core: compiles `assembly/` with AssemblyScript (asc) into
 * `build/roamsign.wasm`, reproducibly (the same sources and flags give the same
 * bytes). The compile is skipped when a stamp file records the hash of the
 * sources, the flags and the compiler version of the existing output.
 *
 * Run as a script (`deno task build`) or call {@link buildWasm}.
 *
 * @module
 */
import asc from "assemblyscript/asc";
// The AssemblyScript library the core imports (assembly/keygen.ts): asc reads it from
// node_modules/as-bignum/assembly/; importing its package.json keeps it in the module graph
// (so Deno puts it in node_modules) and gives the version the stamp records.
import asBignum from "as-bignum/package.json" with { type: "json" };

/** Release flags: -O3, the stub runtime (no GC; the core never allocates), no asserts, SIMD on. */
export const ASC_FLAGS: readonly string[] = [
  "-O3",
  "--runtime",
  "stub",
  "--noAssert",
  "--initialMemory",
  "4",
  "--enable",
  "simd",
];

const HERE = new URL(".", import.meta.url);
const ASSEMBLY_DIR = new URL("assembly/", HERE);
const BUILD_DIR = new URL("build/", HERE);
/** Where the module is written. */
export const WASM_URL: URL = new URL("roamsign.wasm", BUILD_DIR);

/**
 * The two builds of the one source: `baseline` (SIMD) runs on every engine with wasm
 * SIMD; `relaxed` adds relaxed SIMD for the fused multiply-add kernel of the CRT
 * exponentiation (assembly/mont_fma.ts), for engines that validate it and fuse
 * (docs/wasm-crypto.md, "Two builds").
 */
export type WasmVariant = "baseline" | "relaxed";

/**
 * Extra asc flags, the entry files (in assembly/; each one's exports are the module's) and
 * the output file of each build. Each build's second entry holds the exports only it
 * serves: key generation's one-candidate search (baseline) or two-lane Miller-Rabin
 * (relaxed).
 */
export const VARIANTS: Readonly<
  Record<WasmVariant, { flags: readonly string[]; entries: readonly string[]; file: string }>
> = {
  baseline: { flags: [], entries: ["index.ts", "index_baseline.ts"], file: "roamsign.wasm" },
  relaxed: {
    flags: ["--enable", "relaxed-simd"],
    entries: ["index.ts", "index_relaxed.ts"],
    file: "roamsign-relaxed.wasm",
  },
};

/**
 * Extra asc flags of the fault test build (rsa_fault_test.ts): they define
 * ROAMSIGN_FAULT_TEST, which compiles in the fault-injection hook of assembly/rsa.ts
 * (`faultTestHook`). Never used for the shipping builds, which contain no trace of it.
 */
export const FAULT_TEST_FLAGS: readonly string[] = ["--use", "ROAMSIGN_FAULT_TEST=1"];

/** The result of a build. */
export interface BuildResult {
  /** File system path of the module. */
  path: string;
  /** Lower-case hex SHA-256 of the module's bytes. */
  sha256: string;
  bytes: Uint8Array;
}

async function _hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function _sourceFiles(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(ASSEMBLY_DIR)) {
    if (e.isFile && e.name.endsWith(".ts")) names.push(e.name);
  }
  return names.sort();
}

/**
 * Hash over the compiler and library versions, the flags and every source file (name and
 * bytes).
 */
async function _inputsHash(files: string[], variant: WasmVariant): Promise<string> {
  const enc = new TextEncoder();
  const flags = [...ASC_FLAGS, ...VARIANTS[variant].flags];
  const parts: Uint8Array[] = [
    enc.encode(`asc ${asc.version}\nas-bignum ${asBignum.version}\n${flags.join(" ")}\n`),
  ];
  for (const name of files) {
    const body = await Deno.readFile(new URL(name, ASSEMBLY_DIR));
    parts.push(enc.encode(`${name} ${body.length}\n`), body);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return await _hex(all);
}

/**
 * Compiles the sources with asc and returns the module's bytes (nothing written to disk).
 * `extraFlags` are for test builds only (FAULT_TEST_FLAGS).
 */
export async function compileWasm(
  variant: WasmVariant = "baseline",
  extraFlags: readonly string[] = [],
): Promise<Uint8Array> {
  let out: Uint8Array | undefined;
  const stderr: string[] = [];
  const flags = [...ASC_FLAGS, ...VARIANTS[variant].flags, ...extraFlags];
  const { error } = await asc.main(
    [
      ...VARIANTS[variant].entries.map((f) => new URL(f, ASSEMBLY_DIR).pathname),
      ...flags,
      "--outFile",
      "roamsign.wasm",
    ],
    {
      writeFile(name: string, contents: Uint8Array | string) {
        if (name.endsWith("roamsign.wasm") && contents instanceof Uint8Array) out = contents;
      },
      stderr: {
        write(s: string | Uint8Array) {
          stderr.push(typeof s === "string" ? s : new TextDecoder().decode(s));
          return true;
        },
      },
    } as Parameters<typeof asc.main>[1],
  );
  if (error || !out) {
    throw new Error(
      `wasm-crypto build: asc failed: ${error?.message ?? "no output"}\n${stderr.join("")}`,
    );
  }
  return new Uint8Array(out);
}

/** Both builds; the top-level fields are the baseline build's. */
export interface Builds extends BuildResult {
  relaxed: BuildResult;
}

/**
 * Builds `build/roamsign.wasm` and `build/roamsign-relaxed.wasm`, each unless its
 * stamp says the sources, flags and compiler are unchanged and the output is intact.
 */
export async function buildWasm(): Promise<Builds> {
  const files = await _sourceFiles();
  const baseline = await _buildVariant(files, "baseline");
  return { ...baseline, relaxed: await _buildVariant(files, "relaxed") };
}

async function _buildVariant(files: string[], variant: WasmVariant): Promise<BuildResult> {
  const inputs = await _inputsHash(files, variant);
  const url = new URL(VARIANTS[variant].file, BUILD_DIR);
  const stampUrl = new URL(VARIANTS[variant].file.replace(/\.wasm$/, ".stamp"), BUILD_DIR);
  const path = url.pathname;
  try {
    const [stamp, bytes] = await Promise.all([Deno.readTextFile(stampUrl), Deno.readFile(url)]);
    const [stampInputs, stampOutput] = stamp.trim().split(" ");
    const sha256 = await _hex(bytes);
    if (stampInputs === inputs && stampOutput === sha256) return { path, sha256, bytes };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const bytes = await compileWasm(variant);
  const sha256 = await _hex(bytes);
  await Deno.mkdir(BUILD_DIR, { recursive: true });
  const tmp = new URL(`${VARIANTS[variant].file}.${crypto.randomUUID()}.tmp`, BUILD_DIR);
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, url);
  await Deno.writeTextFile(stampUrl, `${inputs} ${sha256}\n`);
  return { path, sha256, bytes };
}

if (import.meta.main) {
  const t0 = performance.now();
  const builds = await buildWasm();
  for (const { path, sha256, bytes } of [builds, builds.relaxed]) {
    console.log(`wasm-crypto: ${path} ${bytes.length} bytes sha256 ${sha256}`);
  }
  console.log(`wasm-crypto: built in ${Math.round(performance.now() - t0)} ms`);
}
