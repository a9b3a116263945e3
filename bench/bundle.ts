/**
 * Bundling for the browser with `deno bundle` (esbuild inside Deno; no other tool
 * needed), and the generated entry modules that link wasm-crypto in when present.
 *
 * @module
 */
import { REPO_ROOT } from "./ours_loader.ts";

/** Where the bench writes generated sources and bundles (gitignored with results/). */
export const BUILD_DIR = new URL("bench/results/.build/", REPO_ROOT);

/** Bundle `entry` (a path relative to the repo root, or a URL) to one ES module. */
export async function bundle(
  entry: string | URL,
  outFile: URL,
  options: { minify?: boolean } = {},
): Promise<Uint8Array> {
  const entryPath = entry instanceof URL ? entry.pathname : new URL(entry, REPO_ROOT).pathname;
  const args = [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--format",
    "esm",
    "-o",
    outFile.pathname,
  ];
  if (options.minify) args.push("--minify");
  args.push(entryPath);
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: REPO_ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-12).join("\n");
    throw new Error(`deno bundle ${entryPath} failed:\n${err}`);
  }
  return await Deno.readFile(outFile);
}

/** Write a generated TypeScript entry into BUILD_DIR and return its URL. */
export async function writeEntry(name: string, source: string): Promise<URL> {
  await Deno.mkdir(BUILD_DIR, { recursive: true });
  const url = new URL(name, BUILD_DIR);
  await Deno.writeTextFile(url, source);
  return url;
}
