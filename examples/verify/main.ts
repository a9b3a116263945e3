/**
 * `deno task verify -- --identity <id> --message <file> --signature <file>`: checks a
 * roamsign signature against the public directory, as any third party would
 * (examples/verify/mod.ts has the rules). Prints the verdict and exits with its code.
 *
 *   --identity <id>       the signer's identity (required)
 *   --message <file>      the exact signed bytes (required)
 *   --signature <file>    the signature: raw bytes (the applet's `.sig` file) or base64 (required)
 *   --server <url>        the roamsign web server (default http://127.0.0.1:8000)
 *   --ca <file>           trust this CA certificate (PEM); default: `DATA_DIR/ca.pem`
 *                         (the vault writes it; DATA_DIR defaults to ./data) when it
 *                         exists, else /ca.pem as the server sends it (with a warning)
 *   --alg pkcs1|pss       RSASSA-PKCS1-v1_5 (default) or RSA-PSS, both with SHA-256
 *   --json                print the result as JSON
 *
 * Exit codes: 0 valid, 1 invalid, 2 revoked, 3 signed-by-superseded-key, 4 expired,
 * 5 unknown identity, 64 usage error, 69 the directory could not be read or did not
 * check out (unreachable, not signed by the CA, stale CRL).
 *
 * @module
 */
import { DirectoryError, EXIT_CODES, type SignatureAlg, verifySignature } from "./mod.ts";

const USAGE = `usage: deno task verify -- --identity <id> --message <file> --signature <file>
       [--server http://127.0.0.1:8000] [--ca ca.pem] [--alg pkcs1|pss] [--json]`;

/** Exit code for a usage error (sysexits EX_USAGE). */
export const EXIT_USAGE = 64;
/** Exit code when the directory cannot be used (sysexits EX_UNAVAILABLE). */
export const EXIT_UNAVAILABLE = 69;

function _signatureBytes(raw: Uint8Array): Uint8Array {
  if ([256, 384, 512].includes(raw.length)) return raw;
  const text = new TextDecoder().decode(raw).trim();
  if (/^[A-Za-z0-9+/=_-]+$/.test(text)) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  return raw;
}

/** Where a local vault's CA certificate is looked for when `--ca` is not given. */
export interface VerifyEnv {
  /** `DATA_DIR` (default `./data`): `ca.pem` there is the vault's CA. */
  dataDir: string;
}

function _envFromProcess(): VerifyEnv {
  return { dataDir: Deno.env.get("DATA_DIR") || "./data" };
}

/** The CA to pin: `--ca`, else the local vault's, else none (and a warning). */
async function _pinnedCa(
  caArg: string | undefined,
  env: VerifyEnv,
  err: (s: string) => void,
): Promise<string | undefined> {
  if (caArg) return await Deno.readTextFile(caArg);
  const local = `${env.dataDir}/ca.pem`;
  try {
    return await Deno.readTextFile(local);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  err(
    `verify: warning: no --ca and no ${local}: this check trusts the CA certificate the ` +
      "server sends, so it is only as trustworthy as that server and the way to it",
  );
  return undefined;
}

/** Runs the CLI; returns the exit code. */
export async function runVerify(
  args: string[],
  out: (s: string) => void = console.log,
  err: (s: string) => void = console.error,
  env: VerifyEnv = _envFromProcess(),
): Promise<number> {
  const opts: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") continue;
    if (a === "--json") json = true;
    else if (/^--(identity|message|signature|server|ca|alg)$/.test(a) && i + 1 < args.length) {
      opts[a.slice(2)] = args[++i];
    } else {
      err(`verify: unexpected argument ${a}\n${USAGE}`);
      return EXIT_USAGE;
    }
  }
  if (!opts.identity || !opts.message || !opts.signature) {
    err(USAGE);
    return EXIT_USAGE;
  }
  const alg: SignatureAlg | undefined = opts.alg === undefined || opts.alg === "pkcs1"
    ? "RSASSA-PKCS1-v1_5-SHA256"
    : opts.alg === "pss"
    ? "RSA-PSS-SHA256"
    : undefined;
  if (!alg) {
    err(`verify: --alg must be pkcs1 or pss\n${USAGE}`);
    return EXIT_USAGE;
  }
  let message: Uint8Array, signature: Uint8Array, caPem: string | undefined;
  try {
    message = await Deno.readFile(opts.message);
    signature = _signatureBytes(await Deno.readFile(opts.signature));
    caPem = await _pinnedCa(opts.ca, env, err);
  } catch (e) {
    err(`verify: ${e instanceof Error ? e.message : e}`);
    return EXIT_USAGE;
  }
  try {
    const r = await verifySignature({
      server: opts.server ?? "http://127.0.0.1:8000",
      identity: opts.identity,
      message,
      signature,
      alg,
      caPem,
    });
    if (json) {
      out(JSON.stringify(r, null, 2));
    } else {
      const cert = r.serial ? ` (certificate ${r.serial}, ${r.status})` : "";
      const detail: Record<string, string> = {
        valid: `signed by ${r.identity}'s current key${cert}`,
        "signed-by-superseded-key": `signed by a key ${r.identity} replaced by re-registration` +
          `${cert}${r.statusChangedAt ? ` on ${r.statusChangedAt}` : ""}`,
        revoked: `signed by a revoked key of ${r.identity}${cert}` +
          `${r.statusChangedAt ? `, revoked ${r.statusChangedAt}` : ""}`,
        expired: `signed by ${r.identity}'s current key, but its certificate expired${cert}`,
        invalid: `no certificate of ${r.identity} verifies this signature over this message`,
        "unknown-identity": `the directory has no certificate for ${r.identity}`,
      };
      out(`${r.verdict}: ${detail[r.verdict]}`);
      out(`CA: sha256 ${r.caFingerprint}${caPem ? " (pinned)" : " (fetched from the server)"}`);
    }
    return EXIT_CODES[r.verdict];
  } catch (e) {
    if (e instanceof DirectoryError) {
      err(`verify: ${e.code}: ${e.message}`);
      return EXIT_UNAVAILABLE;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await runVerify(Deno.args));
