/**
 * The deployment's trust anchors (DESIGN.md §1 "Trust anchors", docs/trust-anchors.md):
 * the public values the applet trusts instead of anything the web server says about
 * keys. `deno task build` compiles them into the worker bundle; the vault and the host
 * application publish them at first start in `DATA_DIR/anchors/*.json`.
 *
 * - `caSpkiSha256`: base64url SHA-256 of the CA's SubjectPublicKeyInfo, PUB(i,s). The
 *   session's confidentiality certificate must chain to it.
 * - `vaultSigningSpki`: base64url SPKI DER of the vault's statement key (RSA,
 *   RSASSA-PKCS1-v1_5 SHA-256). The vault signs its OPAQUE registration answers (with the
 *   stretching parameters it set) and its acknowledgements of apply and re-register with it ({@link vaultStatementBytes}).
 * - `opaqueServerPublicKey`: the vault's OPAQUE static public key; a login answer that
 *   names another key is refused before anything derived from the pass phrase is sent.
 * - `hosts`: host application name → lower-case hex SHA-256 of its integrity key's
 *   SPKI, PUB(i,h).
 *
 * Browser-safe: no Deno or Node APIs.
 *
 * @module
 */
import { b64uDecode } from "./base64url.ts";
import { concat, utf8 } from "./bytes.ts";
import type { KsfParams } from "./key_record.ts";
import { canonicalJson } from "./user_request.ts";

/** The anchors an applet is built with. */
export interface Anchors {
  v: 1;
  caSpkiSha256: string;
  vaultSigningSpki: string;
  opaqueServerPublicKey: string;
  hosts: Record<string, string>;
}

/** Thrown for anchors that are missing a field or malformed. */
export class AnchorsError extends Error {
  readonly code = "bad_anchors";
  constructor(message: string) {
    super(message);
    this.name = "AnchorsError";
  }
}

const _B64U = /^[A-Za-z0-9_-]+$/;
const _HEX64 = /^[0-9a-f]{64}$/;
const _HOST = /^[a-z][a-z0-9-]{0,31}$/;

/** Checks and normalises anchors (key order fixed, hosts sorted); throws {@link AnchorsError}. */
export function parseAnchors(value: unknown): Anchors {
  const a = value as Partial<Anchors> | null;
  if (typeof a !== "object" || a === null) throw new AnchorsError("anchors: not an object");
  if (a.v !== 1) throw new AnchorsError("anchors: unknown version");
  for (const k of ["caSpkiSha256", "vaultSigningSpki", "opaqueServerPublicKey"] as const) {
    if (typeof a[k] !== "string" || !_B64U.test(a[k] as string)) {
      throw new AnchorsError(`anchors: ${k} missing or not base64url`);
    }
  }
  if (b64uDecode(a.caSpkiSha256!).length !== 32) {
    throw new AnchorsError("anchors: caSpkiSha256 is not a SHA-256");
  }
  const hosts = a.hosts ?? {};
  if (typeof hosts !== "object" || hosts === null || Array.isArray(hosts)) {
    throw new AnchorsError("anchors: hosts is not an object");
  }
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(hosts).sort()) {
    const fp = (hosts as Record<string, unknown>)[name];
    if (!_HOST.test(name) || typeof fp !== "string" || !_HEX64.test(fp)) {
      throw new AnchorsError(`anchors: host ${JSON.stringify(name)} is malformed`);
    }
    sorted[name] = fp;
  }
  return {
    v: 1,
    caSpkiSha256: a.caSpkiSha256!,
    vaultSigningSpki: a.vaultSigningSpki!,
    opaqueServerPublicKey: a.opaqueServerPublicKey!,
    hosts: sorted,
  };
}

/** What the vault vouches for with its statement key. */
export type VaultStatement =
  | {
    kind: "register.start";
    identity: string;
    /** base64url SHA-256 of the decoded OPAQUE registration request. */
    requestSha256: string;
    registrationResponse: string;
    /** The applet's session binding (see {@link sessionBindingOf}), echoed. */
    binding: string;
    /**
     * The Argon2id parameters the vault set for this registration: the applet stretches
     * with exactly these, and the vault refuses a record with others (`ksf_mismatch`).
     */
    ksf: KsfParams;
  }
  | {
    kind: "apply";
    identity: string;
    spkiSha256: string;
    status: string;
    consentExpiresAt: string | null;
    /** The request nonce of the `apply` that this acknowledges. */
    nonce: string;
  }
  | {
    /** The options of a new passkey for `identity`, for the session `binding`. */
    kind: "passkey.register.start";
    identity: string;
    challengeId: string;
    challenge: string;
    rpId: string;
    userId: string;
    binding: string;
  }
  | {
    /** The vault stored the passkey `credentialId` for `identity`, for request `nonce`. */
    kind: "passkey.add";
    identity: string;
    credentialId: string;
    nonce: string;
  }
  | {
    /** A passkey sign-in challenge (`identity` "" for a discoverable credential). */
    kind: "passkey.login.start";
    identity: string;
    challengeId: string;
    challenge: string;
    rpId: string;
    allowCredentials: string[];
    binding: string;
  }
  | {
    kind: "reregister";
    identity: string;
    spkiSha256: string;
    serial: string;
    superseded: string;
    nonce: string;
  };

const _STATEMENT_PREFIX = "roamsign/vault-statement/v1\0";

/**
 * The bytes the vault signs for a statement: a fixed prefix (so no other roamsign
 * signature can be taken for one) and the statement's canonical JSON.
 */
export function vaultStatementBytes(statement: VaultStatement): Uint8Array {
  return concat(utf8(_STATEMENT_PREFIX), utf8(canonicalJson(statement)));
}
