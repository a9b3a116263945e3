/**
 * Messages between the applet page and its worker. The page sends commands
 * with an id; the worker answers each with `{ id, ok, result }` or
 * `{ id, ok: false, error }`, and may send `{ id, progress }` before that.
 * Secrets cross only as transferred `Uint8Array`s (the pass phrase, a passkey's PRF
 * output), never back.
 *
 * @module
 */
import type { Registration } from "../protocol/mod.ts";
import type {
  DebitRequest,
  PasskeyCreation,
  PasskeyInfo,
  PasskeyRequest,
  WebauthnJson,
} from "./client/flows/mod.ts";
import type { DebitInstruction, Receipt } from "../protocol/mod.ts";

/** Commands the page sends. */
export type Command =
  | { type: "init"; origin?: string }
  | { type: "apply"; registration: Registration; passphrase: Uint8Array; bits: number }
  | { type: "consent"; registration: Registration; phrase: string }
  | { type: "signIn"; identity: string; passphrase: Uint8Array }
  | { type: "sign"; message: Uint8Array }
  | { type: "signDocument"; signedAttributes: Uint8Array; alg: "pkcs1" | "pss"; timestamp: boolean }
  | { type: "update"; registration: Registration; currentPassphrase: Uint8Array }
  | { type: "reregister"; passphrase: Uint8Array; currentPassphrase: Uint8Array; bits: number }
  | { type: "revoke"; currentPassphrase: Uint8Array }
  | { type: "hostInfo" }
  | { type: "sendToHost"; debit: DebitRequest }
  | { type: "passkeyAddStart"; currentPassphrase: Uint8Array }
  | { type: "passkeyAddFinish"; response: WebauthnJson; prf: Uint8Array; name: string }
  | { type: "passkeySignInStart"; identity: string }
  | { type: "passkeySignInFinish"; response: WebauthnJson; prf: Uint8Array }
  | { type: "passkeyList" }
  | { type: "passkeyRemove"; credentialId: string; currentPassphrase: Uint8Array }
  | { type: "wipe" };

/** A command with its id. */
export type Request = Command & { id: number };

/** Results by command. */
export interface Results {
  init: { wasmSha256: string };
  apply: { status: string; consentExpiresAt?: string };
  consent: { status: string; certificate: string };
  signIn: { identity: string; registration: Registration; certificate: string };
  sign: { signature: Uint8Array; verified: boolean; serial?: string };
  /** A document's signed attributes signed (applet/client/flows/document.ts). */
  signDocument: {
    signature: Uint8Array;
    timestampToken: Uint8Array | null;
    certificate: Uint8Array;
    caCertificate: Uint8Array;
  };
  /** `pending`: the vault keeps the change until the next sign-in confirms it. */
  update: { status: string; pending: boolean; registration: Registration };
  /** `passkeysRewrapped`: every passkey now opens the new key (docs/passkeys.md). */
  reregister: {
    serial: string;
    superseded: string;
    certificate: string;
    passkeysRewrapped: number;
  };
  revoke: { identity: string; status: string; serial: string | null };
  /** The bank's name, currency and pinned key fingerprint, its keys checked. */
  hostInfo: { name: string; currency: string; fingerprint: string };
  sendToHost: {
    instruction: DebitInstruction;
    message: Uint8Array;
    signature: Uint8Array;
    receipt: Receipt;
    receiptText: string;
    receiptSignature: Uint8Array;
    /** The receipt file a user keeps (receipt, signature, certificate). */
    signedReceipt: string;
    hostFingerprint: string;
    /** `duplicate_payment`: paid before, not again; the receipt is the first one. */
    code?: "duplicate_payment";
  };
  passkeyAddStart: PasskeyCreation;
  passkeyAddFinish: PasskeyInfo;
  passkeySignInStart: PasskeyRequest;
  passkeySignInFinish: { identity: string; registration: Registration; certificate: string };
  passkeyList: { passkeys: PasskeyInfo[] };
  passkeyRemove: { removed: boolean };
  wipe: { wiped: true };
}

/** What the worker posts back. */
export type Reply =
  | { id: number; ok: true; result: unknown }
  | {
    id: number;
    ok: false;
    error: {
      code: string;
      message: string;
      retryAfterMs?: number;
      retryable?: boolean;
      /** Shown to the user: consent attempts left, registration fields that differ. */
      details?: { attemptsLeft?: number; fields?: string[] };
    };
  }
  | { id: number; progress: number };
