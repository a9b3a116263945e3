/**
 * A third party's check of a roamsign signature (DESIGN.md §2.7, docs/lifecycle.md):
 * given an identity, the signed bytes and a signature, it fetches the public
 * directory over HTTP — the CA certificate (`/ca.pem`, or one the caller pins), the
 * identity's certificate history (`/directory/<identity>/history`) and the CRL
 * (`/crl.pem`) — and says which of its certificates' keys made the signature and
 * what that certificate's state is:
 *
 * | verdict                    | meaning                                                      |
 * | -------------------------- | ------------------------------------------------------------ |
 * | `valid`                    | made with the current key; certificate active, in date, not on the CRL |
 * | `signed-by-superseded-key` | made with a key replaced by re-registration (it was valid until then) |
 * | `revoked`                  | made with a key whose certificate is revoked                 |
 * | `expired`                  | made with the current key, but its certificate is out of date |
 * | `invalid`                  | no certificate of this identity verifies it                  |
 * | `unknown-identity`         | the directory has no certificate for this identity           |
 *
 * Every certificate must be signed by the CA and name the identity, and the CRL
 * must be signed by the CA and current; a certificate the CRL lists is never
 * `valid`, whatever the directory says. Signatures are checked with WebCrypto,
 * certificates and the CRL parsed by `@peculiar/x509`. The host application uses
 * the same function (examples/host-bank).
 *
 * `verifyReceipt` (receipt.ts) checks a bank's signed receipt file against the bank's
 * pinned key fingerprint (docs/bank-receipt.md).
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto);

export { type ReceiptResult, verifyReceipt } from "./receipt.ts";

/** The outcome of a check. */
export type Verdict =
  | "valid"
  | "signed-by-superseded-key"
  | "revoked"
  | "expired"
  | "invalid"
  | "unknown-identity";

/** Exit codes of `deno task verify` by verdict (docs/lifecycle.md). */
export const EXIT_CODES: Record<Verdict, number> = {
  valid: 0,
  invalid: 1,
  revoked: 2,
  "signed-by-superseded-key": 3,
  expired: 4,
  "unknown-identity": 5,
};

/** Signature algorithms a roamsign user may sign with. */
export type SignatureAlg = "RSASSA-PKCS1-v1_5-SHA256" | "RSA-PSS-SHA256";

/** What to check. */
export interface VerifyRequest {
  /** Base URL of the roamsign web server, e.g. `http://127.0.0.1:8000`. */
  server: string;
  identity: string;
  message: Uint8Array;
  signature: Uint8Array;
  alg?: SignatureAlg;
  /** The CA certificate (PEM) to trust; without it `/ca.pem` is fetched and trusted. */
  caPem?: string;
  fetch?: typeof fetch;
  now?: Date;
}

/** The outcome and what it rests on. */
export interface VerifyResult {
  verdict: Verdict;
  identity: string;
  /** The certificate whose key made the signature (absent for invalid / unknown). */
  serial?: string;
  /** That certificate's status in the directory. */
  status?: string;
  notBefore?: string;
  notAfter?: string;
  /** When it was superseded or revoked. */
  statusChangedAt?: string | null;
  /** The CRL's reason for listing it, if it does. */
  crlReason?: string;
  /** SHA-256 fingerprint (hex) of the CA certificate trusted. */
  caFingerprint: string;
}

/** The directory could not be read or did not check out; `code` is stable. */
export class DirectoryError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "DirectoryError";
    this.code = code;
  }
}

interface _HistoryEntry {
  serial: string;
  status: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  statusChangedAt: string | null;
  certificate: string;
}

async function _get(f: typeof fetch, url: string): Promise<Response> {
  try {
    return await f(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new DirectoryError(
      "directory_unavailable",
      `cannot fetch ${url}: ${err instanceof Error ? err.message : err}`,
    );
  }
}

async function _text(f: typeof fetch, url: string): Promise<string> {
  const res = await _get(f, url);
  const text = await res.text();
  if (!res.ok) {
    throw new DirectoryError("directory_unavailable", `${url} answered HTTP ${res.status}`);
  }
  return text;
}

function _derOf(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`)
    .exec(pem);
  if (!m) throw new DirectoryError("bad_directory", `no ${label} in the answer`);
  const bin = atob(m[1].replace(/\s+/g, ""));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function _hex(data: ArrayBuffer | Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Loads and checks the CA certificate (self-signed, a CA). */
export async function loadCa(pem: string): Promise<x509.X509Certificate> {
  let ca: x509.X509Certificate;
  try {
    ca = new x509.X509Certificate(_derOf(pem, "CERTIFICATE"));
  } catch (err) {
    if (err instanceof DirectoryError) throw err;
    throw new DirectoryError("bad_directory", "the CA certificate does not parse");
  }
  const bc = ca.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca || !(await ca.verify({ signatureOnly: true }))) {
    throw new DirectoryError("bad_directory", "the CA certificate is not a self-signed CA");
  }
  return ca;
}

/** Fetches the CRL and checks it: signed by the CA, not past its next update. */
export async function loadCrl(
  f: typeof fetch,
  server: string,
  ca: x509.X509Certificate,
  now: Date,
): Promise<Map<string, string>> {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(_derOf(await _text(f, `${server}/crl.pem`), "X509 CRL"));
  } catch (err) {
    if (err instanceof DirectoryError) throw err;
    throw new DirectoryError("bad_directory", "the CRL does not parse");
  }
  if (!(await crl.verify({ publicKey: ca.publicKey }))) {
    throw new DirectoryError("bad_directory", "the CRL is not signed by the CA");
  }
  if (!crl.nextUpdate || crl.nextUpdate.getTime() < now.getTime()) {
    throw new DirectoryError("stale_crl", "the CRL is past its next update");
  }
  const listed = new Map<string, string>();
  for (const e of crl.entries) {
    listed.set(
      e.serialNumber.toLowerCase(),
      e.reason === undefined ? "unspecified" : x509.X509CrlReason[e.reason],
    );
  }
  return listed;
}

async function _verifyWith(
  cert: x509.X509Certificate,
  alg: SignatureAlg,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const pss = alg === "RSA-PSS-SHA256";
  const algorithm = pss
    ? { name: "RSA-PSS", hash: "SHA-256" }
    : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  try {
    const key = await crypto.subtle.importKey(
      "spki",
      cert.publicKey.rawData,
      algorithm,
      false,
      ["verify"],
    );
    return await crypto.subtle.verify(
      pss ? { name: "RSA-PSS", saltLength: 32 } : algorithm,
      key,
      signature as Uint8Array<ArrayBuffer>,
      message as Uint8Array<ArrayBuffer>,
    );
  } catch {
    return false;
  }
}

/** Checks one certificate of the history against the CA and the identity. */
async function _trusted(
  entry: _HistoryEntry,
  ca: x509.X509Certificate,
  identity: string,
): Promise<x509.X509Certificate | null> {
  try {
    const cert = new x509.X509Certificate(_derOf(entry.certificate, "CERTIFICATE"));
    if (cert.serialNumber.toLowerCase() !== entry.serial.toLowerCase()) return null;
    if (cert.subject !== `CN=${identity}` || cert.issuer !== ca.subject) return null;
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    if (!usage || !(usage.usages & x509.KeyUsageFlags.digitalSignature)) return null;
    if (!(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }))) return null;
    return cert;
  } catch {
    return null;
  }
}

/** Runs the check described in the module doc. */
export async function verifySignature(req: VerifyRequest): Promise<VerifyResult> {
  const f = req.fetch ?? fetch.bind(globalThis);
  const server = req.server.replace(/\/+$/, "");
  const now = req.now ?? new Date();
  const alg = req.alg ?? "RSASSA-PKCS1-v1_5-SHA256";
  const ca = await loadCa(req.caPem ?? await _text(f, `${server}/ca.pem`));
  const caFingerprint = await _hex(ca.rawData);
  const base = { identity: req.identity, caFingerprint };

  const res = await _get(f, `${server}/directory/${encodeURIComponent(req.identity)}/history`);
  const body = await res.json().catch(() => null) as
    | { certificates?: _HistoryEntry[]; error?: { code?: string } }
    | null;
  if (res.status === 404 && body?.error?.code === "no_certificate") {
    return { verdict: "unknown-identity", ...base };
  }
  if (res.status === 400 && body?.error?.code === "bad_identity") {
    return { verdict: "unknown-identity", ...base };
  }
  if (!res.ok || !Array.isArray(body?.certificates)) {
    throw new DirectoryError("directory_unavailable", `history answered HTTP ${res.status}`);
  }
  const crl = await loadCrl(f, server, ca, now);

  // The current certificate first, then the rest newest first.
  const history = [...body.certificates].sort((a, b) =>
    (a.status === "active" ? -1 : 0) - (b.status === "active" ? -1 : 0) ||
    Date.parse(b.issuedAt) - Date.parse(a.issuedAt)
  );
  for (const entry of history) {
    const cert = await _trusted(entry, ca, req.identity);
    if (!cert || !(await _verifyWith(cert, alg, req.message, req.signature))) continue;
    const crlReason = crl.get(cert.serialNumber.toLowerCase());
    const found = {
      ...base,
      serial: entry.serial,
      status: entry.status,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      statusChangedAt: entry.statusChangedAt,
      ...(crlReason ? { crlReason } : {}),
    };
    if (entry.status === "superseded" || crlReason === "superseded") {
      return { verdict: "signed-by-superseded-key", ...found };
    }
    if (entry.status !== "active" || crlReason !== undefined) {
      return { verdict: "revoked", ...found };
    }
    if (now < cert.notBefore || now > cert.notAfter) return { verdict: "expired", ...found };
    return { verdict: "valid", ...found };
  }
  return { verdict: "invalid", ...base };
}
