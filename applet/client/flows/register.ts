/**
 * Apply to register and give consent (DESIGN.md §2 steps 3–4).
 *
 * @module
 */
import { type RsaPrivateKey, signPkcs1v15 } from "../../../wasm-crypto/mod.ts";
import {
  b64uEncode,
  type KsfParams,
  normalizeRegistration,
  parseConsentPhrase,
  type Registration,
  sha256,
  userRequestBytes,
  wipe,
} from "../../../protocol/mod.ts";
import type { Session } from "../session.ts";
import {
  checkVaultStatement,
  FlowError,
  KEY_SIZES,
  newIdempotencyKey,
  newKey,
  retrying,
} from "./common.ts";

export interface ApplyInput {
  registration: Registration;
  /** UTF-8 pass phrase; wiped before this returns. */
  passphrase: Uint8Array;
  bits: number;
  /** Key generation progress, 0..1 (an estimate: prime search has no fixed length). */
  onProgress?: (fraction: number) => void;
  /**
   * Lowest stretching accepted from the vault, which sets the parameters (docs/
   * lifecycle.md, "Stretching parameters"); the applet always uses KSF_FLOOR.
   */
  ksfFloor?: KsfParams;
  /** `1`: a key record v1 (tests of the v1 → v2 upgrade only; the worker never sets it). */
  recordVersion?: 1 | 2;
}

/** Answer of the vault to an application. */
export interface ApplyResult {
  status: string;
  consentExpiresAt?: string;
}

export async function applyToRegister(session: Session, input: ApplyInput): Promise<ApplyResult> {
  const registration = normalizeRegistration(input.registration);
  if (!KEY_SIZES.includes(input.bits as typeof KEY_SIZES[number])) {
    throw new FlowError("bad_key_size", "Key size must be 2048, 3072 or 4096 bits.");
  }
  let key: RsaPrivateKey | null = null;
  try {
    const made = await newKey(session, registration, input.passphrase, {
      bits: input.bits,
      ksfFloor: input.ksfFloor,
      onProgress: input.onProgress,
      recordVersion: input.recordVersion,
    });
    key = made.key;
    const { spki, keyRecord } = made;
    const signer = key;
    const idempotencyKey = newIdempotencyKey();
    let sentNonce = "";
    const r = await retrying(() =>
      session.call<ApplyResult & { vaultSignature?: string }>("apply", async (nonce) => {
        sentNonce = nonce;
        const body = {
          registration,
          spki: b64uEncode(spki),
          keyRecord,
          registrationRecord: made.registrationRecord,
          nonce,
          idempotencyKey,
        };
        const pop = signPkcs1v15(
          signer,
          "SHA-256",
          await userRequestBytes("apply", registration.identity, nonce, body),
        );
        return { ...body, pop: b64uEncode(pop) };
      })
    );
    // The vault's own word that it stored this application (not the web server's).
    checkVaultStatement(session.anchors, {
      kind: "apply",
      identity: registration.identity,
      spkiSha256: b64uEncode(await sha256(spki)),
      status: r.status,
      consentExpiresAt: r.consentExpiresAt ?? null,
      nonce: sentNonce,
    }, r.vaultSignature);
    return { status: r.status, consentExpiresAt: r.consentExpiresAt };
  } finally {
    wipe(input.passphrase);
    key?.destroy();
  }
}

/** Consent (DESIGN.md §2.4): the phrase is typo-checked before anything is sent. */
export async function giveConsent(
  session: Session,
  input: { registration: Registration; phrase: string },
): Promise<{ status: string; certificate: string }> {
  const registration = normalizeRegistration(input.registration);
  parseConsentPhrase(input.phrase).fill(0); // throws ConsentPhraseError on a typo
  const idempotencyKey = newIdempotencyKey();
  return await retrying(() =>
    session.call("consent", { registration, phrase: input.phrase, idempotencyKey })
  );
}

/** A signed-in user: SKu in wasm-crypto, KEK as a non-extractable key. */
