/**
 * `deno task verify -- --identity <id> --message <file> --signature <file>`: checks a
 * roamsign signature against the public directory, as any third party would
 * (examples/verify/mod.ts has the rules). Prints the verdict and exits with its code.
 *
 *   --identity <id>       the signer's identity (required)
 *   --message <file>      the exact signed bytes (required)
 *   --signature <file>    the signature: raw bytes (the applet's `.sig` file) or base64 (required)
 *   --server <url>        the roamsign web server (default `ROAMSIGN_URL`, else
 *                         http://127.0.0.1:$PORT, PORT defaulting to 8000)
 *   --ca <file>           trust this CA certificate (PEM); default: `DATA_DIR/ca.pem`
 *                         (the vault writes it; DATA_DIR defaults to ./data) when it
 *                         exists, else /ca.pem as the server sends it (with a warning)
 *   --alg pkcs1|pss       RSASSA-PKCS1-v1_5 (default) or RSA-PSS, both with SHA-256
 *   --json                print the result as JSON
 *
 * `deno task verify -- --receipt <file> [--bank-key <hex>]` checks instead a bank's signed
 * receipt (the applet's "Download receipt"; examples/verify/receipt.ts,
 * docs/bank-receipt.md) against the bank's key fingerprint: `--bank-key`, else
 * `DATA_DIR/anchors/host-bank.json` (what the applet was built to trust), else the key the
 * server's `/api/host` names (with a warning). Offline when pinned.
 *
 * `deno task verify -- --document FILE.pdf` checks a signed PDF (PAdES), and
 * `--document FILE --signature FILE.p7s` a detached CMS signature of any file
 * (examples/verify/document.ts, docs/documents.md): integrity, the signer against the
 * directory (status now, and at the time-stamp), the time-stamp; the same verdicts and
 * exit codes (unreadable input: 64).
 *
 * Exit codes: 0 valid, 1 invalid, 2 revoked, 3 signed-by-superseded-key, 4 expired,
 * 5 unknown identity, 64 usage error, 69 the directory could not be read or did not
 * check out (unreachable, not signed by the CA, stale CRL). A receipt: 0 valid, 1 invalid,
 * 64, 69 (no pin, and the server could not be asked).
 *
 * @module
 */
import {
  DirectoryError,
  EXIT_CODES,
  type ReceiptResult,
  type SignatureAlg,
  verifyReceipt,
  verifySignature,
} from "./mod.ts";
import { runDocument } from "./document_cli.ts";
import {
  parseCertificate,
  parseSignedReceipt,
  pemDecode,
  sha256,
  toHex,
} from "../../protocol/mod.ts";

const USAGE = `usage: deno task verify -- --identity <id> --message <file> --signature <file>
       [--server URL] [--ca ca.pem] [--alg pkcs1|pss] [--json]
   or: deno task verify -- --receipt <file> [--bank-key <hex>] [--server URL] [--json]
   or: deno task verify -- --document <file.pdf> [--server URL] [--ca ca.pem] [--json]
   or: deno task verify -- --document <file> --signature <file.p7s> [--server URL] [--ca ca.pem] [--json]
   (--server defaults to $ROAMSIGN_URL, else http://127.0.0.1:$PORT, PORT 8000)`;

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

/** What the CLI reads from the environment (README's table). */
export interface VerifyEnv {
  /**
   * `DATA_DIR` (default `./data`): `ca.pem` there is the vault's CA, `anchors/host-bank.json`
   * the bank's key fingerprint.
   */
  dataDir: string;
  /** The server when `--server` is not given (default http://127.0.0.1:8000). */
  server?: string;
}

/**
 * The environment as the CLI reads it: `DATA_DIR`, and the default server `ROAMSIGN_URL`,
 * else `http://127.0.0.1:$PORT` (the web server's own `PORT`, default 8000).
 */
export function verifyEnvFrom(get: (name: string) => string | undefined): VerifyEnv {
  return {
    dataDir: get("DATA_DIR") || "./data",
    server: get("ROAMSIGN_URL") || `http://127.0.0.1:${get("PORT") || "8000"}`,
  };
}

function _envFromProcess(): VerifyEnv {
  return verifyEnvFrom((k) => Deno.env.get(k));
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
    else if (
      /^--(identity|message|signature|server|ca|alg|receipt|bank-key|document)$/.test(a) &&
      i + 1 < args.length
    ) {
      opts[a.slice(2)] = args[++i];
    } else {
      err(`verify: unexpected argument ${a}\n${USAGE}`);
      return EXIT_USAGE;
    }
  }
  const server = opts.server ?? env.server ?? "http://127.0.0.1:8000";
  if (opts.receipt !== undefined) {
    const other = ["identity", "message", "signature", "alg", "ca"].find((k) => k in opts);
    if (other) {
      err(`verify: --receipt checks a receipt alone; leave out --${other}\n${USAGE}`);
      return EXIT_USAGE;
    }
    return await _runReceipt({ ...opts, server }, json, out, err, env);
  }
  if (opts.document !== undefined) {
    const other = ["identity", "message", "alg", "receipt", "bank-key"].find((k) => k in opts);
    if (other) {
      err(
        `verify: --document takes --signature (for a non-PDF) only; leave out --${other}\n${USAGE}`,
      );
      return EXIT_USAGE;
    }
    return await runDocument(
      { ...opts, server },
      json,
      out,
      err,
      () => _pinnedCa(opts.ca, env, err),
    );
  }
  if ("bank-key" in opts) {
    err(`verify: --bank-key goes with --receipt\n${USAGE}`);
    return EXIT_USAGE;
  }
  const missing = ["identity", "message", "signature"].filter((k) => !opts[k]);
  if (missing.length > 0) {
    err(`verify: missing ${missing.map((k) => `--${k}`).join(", ")}\n${USAGE}`);
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
      server,
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

/** Where the bank's key fingerprint comes from, and the fingerprint. */
async function _bankPin(
  opts: Record<string, string>,
  host: string,
  env: VerifyEnv,
  err: (s: string) => void,
): Promise<{ pin: string; from: string }> {
  if (opts["bank-key"] !== undefined) return { pin: opts["bank-key"], from: "--bank-key" };
  const file = `${env.dataDir}/anchors/host-bank.json`;
  try {
    const hosts = JSON.parse(await Deno.readTextFile(file)).hosts ?? {};
    if (typeof hosts[host] === "string") return { pin: hosts[host], from: file };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const url = `${opts.server.replace(/\/+$/, "")}/api/host`;
  let keys: { name?: unknown; integrityCert?: unknown };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    keys = await res.json();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    throw new DirectoryError(
      "directory_unavailable",
      `no --bank-key, no ${file}, and ${url} could not be read (${(e as Error).message})`,
    );
  }
  if (keys.name !== host || typeof keys.integrityCert !== "string") {
    throw new DirectoryError("bad_directory", `${url} does not name the bank ${host}`);
  }
  err(
    `verify: warning: no --bank-key and no ${file}: this check trusts the bank key the ` +
      "server names, so it is only as trustworthy as that server and the way to it",
  );
  let spki: Uint8Array;
  try {
    spki = parseCertificate(pemDecode(keys.integrityCert)).spki;
  } catch {
    throw new DirectoryError("bad_directory", `${url}: the bank's certificate does not parse`);
  }
  return { pin: toHex(await sha256(spki)), from: url };
}

/** `--receipt FILE`: the bank's signature over a receipt the applet gave. */
async function _runReceipt(
  opts: Record<string, string>,
  json: boolean,
  out: (s: string) => void,
  err: (s: string) => void,
  env: VerifyEnv,
): Promise<number> {
  if (opts["bank-key"] !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts["bank-key"])) {
    err(`verify: --bank-key is the bank key's SHA-256, 64 hex digits\n${USAGE}`);
    return EXIT_USAGE;
  }
  let text: string;
  try {
    text = await Deno.readTextFile(opts.receipt);
  } catch (e) {
    err(`verify: ${e instanceof Error ? e.message : e}`);
    return EXIT_USAGE;
  }
  let host = "bank";
  try {
    host = parseSignedReceipt(text).receipt.host;
  } catch { /* verifyReceipt says what is wrong with it */ }
  let pin: { pin: string; from: string };
  try {
    pin = await _bankPin(opts, host, env, err);
  } catch (e) {
    if (!(e instanceof DirectoryError)) throw e;
    err(`verify: ${e.code}: ${e.message}`);
    return EXIT_UNAVAILABLE;
  }
  const r: ReceiptResult = await verifyReceipt(text, pin.pin);
  if (json) out(JSON.stringify({ ...r, bankKey: pin.pin, bankKeyFrom: pin.from }, null, 2));
  else if (r.verdict === "valid") {
    const rc = r.receipt!;
    out(`valid: receipt ${rc.receiptId} is signed by the ${rc.host}'s key`);
    out(
      `  ${rc.debit.amount} ${rc.debit.currency} from ${rc.identity} to ${rc.debit.to}` +
        `${rc.debit.reference ? `, reference "${rc.debit.reference}"` : ""}, ` +
        `executed ${rc.processedAt} (message ${rc.messageId})`,
    );
    out(`bank key: sha256 ${pin.pin.toLowerCase()} (from ${pin.from})`);
  } else {
    out(`invalid: ${r.reason}`);
    out(`bank key: sha256 ${pin.pin.toLowerCase()} (from ${pin.from})`);
  }
  return r.verdict === "valid" ? 0 : 1;
}

if (import.meta.main) Deno.exit(await runVerify(Deno.args));
