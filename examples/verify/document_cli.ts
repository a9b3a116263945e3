/**
 * The `--document` mode of `deno task verify` (main.ts): reads the files, runs
 * {@link verifyDocument} and prints the verdict; the exit code is the verdict's
 * (mod.ts `EXIT_CODES`), 64 for unreadable or unusable input, 69 when the directory
 * cannot be used.
 *
 * @module
 */
import { DocumentError } from "../../documents/mod.ts";
import { DirectoryError, EXIT_CODES } from "./mod.ts";
import { type DocumentResult, verifyDocument } from "./document.ts";

const _EXIT_USAGE = 64;
const _EXIT_UNAVAILABLE = 69;

function _say(r: DocumentResult): string[] {
  const who = r.identity ?? "the signer";
  const cert = r.serial ? ` (certificate ${r.serial}, ${r.status})` : "";
  const what = r.kind === "pades" ? "the PDF" : "the file";
  const lines: Record<string, string> = {
    valid: `${what} is signed by ${who}'s current key${cert}`,
    "signed-by-superseded-key":
      `${what} is signed by a key ${who} replaced by re-registration${cert}`,
    revoked: `${what} is signed by a revoked key of ${who}${cert}` +
      `${r.statusChangedAt ? `, revoked ${r.statusChangedAt}` : ""}`,
    expired: `${what} is signed by ${who}'s current key, but its certificate expired${cert}`,
    invalid: `${what} and its signature do not match${r.problem ? `: ${r.problem}` : ""}`,
    "unknown-identity": `the directory has no certificate for ${who}`,
  };
  const out = [`${r.verdict}: ${lines[r.verdict]}`];
  if (r.timestampedAt) {
    out.push(
      `time-stamped: ${r.timestampedAt} by the roamsign TSA; at that time: ${r.atSigningTime}`,
    );
  } else if (r.verdict !== "invalid") {
    out.push("time-stamped: no (the signing time is the signer's claim)");
  }
  if (r.caFingerprint) out.push(`CA: sha256 ${r.caFingerprint}`);
  return out;
}

/** Runs `--document FILE [--signature FILE]`; returns the exit code. */
export async function runDocument(
  opts: Record<string, string>,
  json: boolean,
  out: (s: string) => void,
  err: (s: string) => void,
  pinnedCa: () => Promise<string | undefined>,
): Promise<number> {
  let document: Uint8Array, signature: Uint8Array | undefined, caPem: string | undefined;
  try {
    document = await Deno.readFile(opts.document);
    signature = opts.signature !== undefined ? await Deno.readFile(opts.signature) : undefined;
    caPem = await pinnedCa();
  } catch (e) {
    err(`verify: ${e instanceof Error ? e.message : e}`);
    return _EXIT_USAGE;
  }
  try {
    const r = await verifyDocument({ server: opts.server, document, signature, caPem });
    if (json) out(JSON.stringify(r, null, 2));
    else for (const line of _say(r)) out(line);
    return EXIT_CODES[r.verdict];
  } catch (e) {
    if (e instanceof DocumentError) {
      err(`verify: ${e.code}: ${e.message}`);
      return _EXIT_USAGE;
    }
    if (e instanceof DirectoryError) {
      err(`verify: ${e.code}: ${e.message}`);
      return _EXIT_UNAVAILABLE;
    }
    throw e;
  }
}
