/**
 * Where the deployment's public trust anchors are published on disk
 * (docs/trust-anchors.md): one JSON file per publisher in `DATA_DIR/anchors/`
 * (`vault.json` from the key-vault, `host-<name>.json` from each host application),
 * written at first start and rewritten only when a value changes. `deno task build`
 * merges them ({@link readAnchorFiles}) and compiles the result into the worker.
 * Nothing here is secret: the files hold public keys and hashes (mode 0644).
 *
 * @module
 */
import { type Anchors, AnchorsError, parseAnchors } from "../protocol/mod.ts";

/** `<dataDir>/anchors`. */
export function anchorsDir(dataDir: string): string {
  return `${dataDir}/anchors`;
}

/**
 * Writes (atomically) `<dataDir>/anchors/<name>.json` with `values`, unless the file
 * already holds exactly these values.
 */
export async function publishAnchorFile(
  dataDir: string,
  name: string,
  values: Partial<Anchors>,
): Promise<void> {
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(name)) throw new Error(`anchors: bad file name ${name}`);
  const dir = anchorsDir(dataDir);
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${name}.json`;
  const text = JSON.stringify(values, null, 2) + "\n";
  try {
    if (await Deno.readTextFile(path) === text) return;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, text, { mode: 0o644 });
  await Deno.rename(tmp, path);
}

/**
 * Merges every `*.json` in `<dataDir>/anchors/` (sorted by name) into one set of
 * anchors; null when the directory is missing or holds no vault anchors yet. Two
 * files that disagree on a value, or a malformed result, throw {@link AnchorsError}.
 */
export async function readAnchorFiles(dataDir: string): Promise<Anchors | null> {
  const dir = anchorsDir(dataDir);
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  names.sort();
  const merged: Record<string, unknown> = { v: 1 };
  const hosts: Record<string, string> = {};
  for (const name of names) {
    const part = JSON.parse(await Deno.readTextFile(`${dir}/${name}`)) as Record<string, unknown>;
    for (const [k, v] of Object.entries(part)) {
      if (k === "hosts") {
        for (const [h, fp] of Object.entries(v as Record<string, string>)) {
          if (hosts[h] !== undefined && hosts[h] !== fp) {
            throw new AnchorsError(`anchors: two files disagree on host ${h}`);
          }
          hosts[h] = fp;
        }
      } else if (merged[k] !== undefined && merged[k] !== v) {
        throw new AnchorsError(`anchors: two files disagree on ${k} (${name})`);
      } else {
        merged[k] = v;
      }
    }
  }
  if (merged.caSpkiSha256 === undefined) return null;
  return parseAnchors({ ...merged, hosts });
}

/** Reads one anchors file given on the command line (`--anchors FILE`). */
export async function readAnchorsFile(path: string): Promise<Anchors> {
  return parseAnchors(JSON.parse(await Deno.readTextFile(path)));
}
