/**
 * `deno task verify-applet -- --url URL [--anchors FILE] [--json]`: an auditor's check
 * that a running deployment serves exactly the reproducible build of this source tree
 * (DESIGN.md §1 "Trust anchors", docs/verify-applet.md).
 *
 * 1. Fetches the deployment's page `/`, its manifest
 *    `/.well-known/roamsign/manifest.json`, and every file the manifest lists.
 * 2. Builds the applet here: {@link compileApplet} (the cached compile of these
 *    sources) and {@link linkApplet} with the anchors — from `--anchors FILE`, else the
 *    ones the served manifest lists, which are then printed prominently: they are the
 *    deployment's own claim, and the auditor must compare them with anchors obtained
 *    independently — into a temporary directory.
 * 3. Compares byte for byte every served file with the local one (the manifest
 *    included), and the file lists both ways.
 *
 * Exit codes: 0 identical; 1 different (each difference listed: path, expected SHA-256,
 * got SHA-256, or missing / extra); 64 usage error (bad arguments, unreadable
 * `--anchors` file); 69 the deployment is unreachable (or answers the page or the
 * manifest with an error status); 70 the local build failed.
 *
 * @module
 */
import { toHex } from "../protocol/mod.ts";
import { type Anchors, parseAnchors } from "../protocol/mod.ts";
import { readAnchorsFile } from "../platform/mod.ts";
import { compileApplet, linkApplet, type Manifest } from "./build.ts";

/** Exit codes (sysexits.h where one fits). */
export const EXIT = { ok: 0, different: 1, usage: 64, unavailable: 69, software: 70 } as const;

/** The manifest's URL path. */
export const MANIFEST_PATH = "/.well-known/roamsign/manifest.json";

/** One finding. */
export interface Difference {
  path: string;
  /** `different`: bytes differ; `missing`: built here, not served (or not listed); `extra`: listed by the deployment, not built here. */
  kind: "different" | "missing" | "extra";
  /** SHA-256 (hex) of the local build's file, if there is one. */
  expected: string | null;
  /** SHA-256 (hex) of what the deployment served, if it served anything. */
  got: string | null;
  detail?: string;
}

/** What {@link verifyApplet} finds. */
export interface Verdict {
  url: string;
  identical: boolean;
  /** Where the anchors came from: the auditor's file, or the deployment's own manifest. */
  anchorsFrom: "file" | "served-manifest";
  anchors: Anchors;
  /** Paths compared and found identical. */
  identicalFiles: string[];
  differences: Difference[];
}

/** Thrown when the deployment cannot be reached; exit 69. */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnreachableError";
  }
}

/** Thrown for bad arguments; exit 64. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const _USAGE = "usage: deno task verify-applet -- --url URL [--anchors FILE] [--json]";

async function _sha256(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource)));
}

/** Fetches one path; null on 404, UnreachableError on a network failure. */
async function _get(base: string, path: string): Promise<{ status: number; bytes: Uint8Array }> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), { redirect: "manual" });
  } catch (err) {
    throw new UnreachableError(`${base}: ${(err as Error).message}`);
  }
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** Reads the local build's files (URL path → bytes) from `dir`. */
async function _localFiles(dir: string, manifest: Manifest): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const path of Object.keys(manifest.files)) {
    files.set(path, await Deno.readFile(`${dir}/${path === "/" ? "index.html" : path.slice(1)}`));
  }
  files.set(MANIFEST_PATH, await Deno.readFile(`${dir}/manifest.json`));
  return files;
}

/** Fetches the deployment, builds here, compares (see the module doc). */
export async function verifyApplet(
  url: string,
  options: { anchors?: Anchors } = {},
): Promise<Verdict> {
  const base = new URL(url).origin;
  const page = await _get(base, "/");
  const served = await _get(base, MANIFEST_PATH);
  if (page.status !== 200 || served.status !== 200) {
    throw new UnreachableError(
      `${base}: the page answered ${page.status}, the manifest ${served.status}`,
    );
  }
  const differences: Difference[] = [];
  let listed: Record<string, unknown> = {};
  let servedAnchors: unknown;
  try {
    const m = JSON.parse(new TextDecoder().decode(served.bytes));
    listed = typeof m?.files === "object" && m.files !== null ? m.files : {};
    servedAnchors = m?.anchors;
  } catch {
    differences.push({
      path: MANIFEST_PATH,
      kind: "different",
      expected: null,
      got: await _sha256(served.bytes),
      detail: "the served manifest is not JSON",
    });
  }
  const anchors = options.anchors ?? parseAnchors(servedAnchors);

  const dir = await Deno.makeTempDir({ prefix: "roamsign-verify-" });
  try {
    const code = await compileApplet();
    const built = await linkApplet(code, anchors, dir);
    const local = await _localFiles(dir, built);
    const identicalFiles: string[] = [];
    for (const [path, bytes] of local) {
      const expected = await _sha256(bytes);
      const got = path === "/" ? page : path === MANIFEST_PATH ? served : await _get(base, path);
      if (got.status !== 200) {
        differences.push({
          path,
          kind: "missing",
          expected,
          got: null,
          detail: `not served (HTTP ${got.status})`,
        });
        continue;
      }
      const gotHash = await _sha256(got.bytes);
      if (gotHash !== expected) {
        differences.push({ path, kind: "different", expected, got: gotHash });
        continue;
      }
      if (path !== MANIFEST_PATH && !Object.hasOwn(listed, path)) {
        differences.push({
          path,
          kind: "missing",
          expected,
          got: gotHash,
          detail: "served, but not listed in the served manifest",
        });
        continue;
      }
      identicalFiles.push(path);
    }
    for (const path of Object.keys(listed).sort()) {
      if (local.has(path)) continue;
      const got = /^\/[A-Za-z0-9._/-]{0,200}$/.test(path) ? await _get(base, path) : null;
      differences.push({
        path,
        kind: "extra",
        expected: null,
        got: got?.status === 200 ? await _sha256(got.bytes) : null,
        detail: "listed in the served manifest, not part of the local build",
      });
    }
    return {
      url: base,
      identical: differences.length === 0,
      anchorsFrom: options.anchors ? "file" : "served-manifest",
      anchors,
      identicalFiles,
      differences,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Parses the command line; throws {@link UsageError}. */
export function parseArgs(args: string[]): { url: string; anchorsFile?: string; json: boolean } {
  const a = args[0] === "--" ? args.slice(1) : args;
  let url: string | undefined;
  let anchorsFile: string | undefined;
  let json = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "--url" && a[i + 1] !== undefined) url = a[++i];
    else if (a[i] === "--anchors" && a[i + 1] !== undefined) anchorsFile = a[++i];
    else if (a[i] === "--json") json = true;
    else throw new UsageError(`unknown argument ${JSON.stringify(a[i])}\n${_USAGE}`);
  }
  if (!url) throw new UsageError(`--url is required\n${_USAGE}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(url)} is not a URL\n${_USAGE}`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new UsageError(`--url must be http(s)\n${_USAGE}`);
  }
  return { url, anchorsFile, json };
}

/** The human-readable report. */
export function formatVerdict(v: Verdict): string {
  const out: string[] = [];
  if (v.anchorsFrom === "served-manifest") {
    const bar = "=".repeat(78);
    out.push(
      bar,
      "TRUST ANCHORS TAKEN FROM THE DEPLOYMENT'S OWN MANIFEST — compare them with anchors",
      "obtained independently (from the operator, out of band); a build that matches",
      "anchors the deployment chose proves nothing about whom the applet trusts.",
      "",
      ...JSON.stringify(v.anchors, null, 2).split("\n").map((l) => `  ${l}`),
      bar,
      "",
    );
  } else {
    out.push("Trust anchors: from the --anchors file.", "");
  }
  out.push(`Deployment: ${v.url}`);
  for (const p of v.identicalFiles) out.push(`  identical  ${p}`);
  for (const d of v.differences) {
    const detail = d.detail ? `  (${d.detail})` : "";
    if (d.kind === "different") {
      out.push(
        `  DIFFERENT  ${d.path}  expected sha256 ${d.expected ?? "-"}  got ${d.got}${detail}`,
      );
    } else if (d.kind === "missing") {
      out.push(`  MISSING    ${d.path}  expected sha256 ${d.expected}${detail}`);
    } else {
      out.push(`  EXTRA      ${d.path}  got sha256 ${d.got ?? "(not served)"}${detail}`);
    }
  }
  out.push(
    "",
    v.identical
      ? `IDENTICAL: the deployment serves exactly the reproducible build (${v.identicalFiles.length} files).`
      : `DIFFERENT: ${v.differences.length} difference(s) from the reproducible build.`,
  );
  return out.join("\n");
}

async function _main(args: string[]): Promise<number> {
  let opts: ReturnType<typeof parseArgs>;
  let anchors: Anchors | undefined;
  try {
    opts = parseArgs(args);
    if (opts.anchorsFile) {
      try {
        anchors = await readAnchorsFile(opts.anchorsFile);
      } catch (err) {
        throw new UsageError(`--anchors ${opts.anchorsFile}: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(err.message);
    return EXIT.usage;
  }
  let verdict: Verdict;
  try {
    verdict = await verifyApplet(opts.url, { anchors });
  } catch (err) {
    if (err instanceof UnreachableError) {
      console.error(`verify-applet: deployment unreachable: ${err.message}`);
      return EXIT.unavailable;
    }
    if ((err as Error).name === "AnchorsError") {
      console.error(`verify-applet: the served manifest's anchors: ${(err as Error).message}`);
      return EXIT.different;
    }
    console.error(`verify-applet: the local build failed: ${(err as Error).message}`);
    return EXIT.software;
  }
  console.log(opts.json ? JSON.stringify(verdict, null, 2) : formatVerdict(verdict));
  return verdict.identical ? EXIT.ok : EXIT.different;
}

if (import.meta.main) Deno.exit(await _main(Deno.args));
