/// <reference lib="dom" />
/**
 * The page's WebAuthn ceremonies (docs/passkeys.md): `navigator.credentials` exists only
 * in a window, not in the worker. Each ceremony asks the authenticator for its PRF output
 * over {@link PASSKEY_PRF_INPUT}; the output is handed back as a `Uint8Array` over the
 * extension's own buffer, which the caller transfers to the worker at once (the page keeps
 * no reference: the buffer is detached). No PRF output → `passkey_no_prf`, and nothing
 * of that ceremony is sent anywhere: never a silent success.
 *
 * @module
 */
import { b64uDecode, b64uEncode, PASSKEY_PRF_INPUT } from "../../protocol/mod.ts";
import type { PasskeyCreation, PasskeyRequest, WebauthnJson } from "../client/flows/mod.ts";
import { UiError } from "./worker_client.ts";

const _NO_PRF = "This passkey or security key cannot unlock your key: it does not offer the " +
  "PRF extension. Nothing was changed; use another authenticator, or your pass phrase.";

/** Whether this page can use passkeys at all (WebAuthn in a secure context, a host name). */
export function passkeysAvailable(): boolean {
  return typeof PublicKeyCredential !== "undefined" && globalThis.isSecureContext === true &&
    !/^[0-9.]+$|^\[/.test(location.hostname);
}

function _unavailable(): UiError {
  return new UiError(
    "passkey_unsupported",
    "Passkeys need a browser with WebAuthn and a page opened by its host name (for example " +
      "http://localhost:8000, not an IP address).",
  );
}

function _bytes(b64u: string): Uint8Array<ArrayBuffer> {
  return b64uDecode(b64u) as Uint8Array<ArrayBuffer>;
}

function _b64u(buf: ArrayBuffer | null | undefined): string | undefined {
  return buf ? b64uEncode(new Uint8Array(buf)) : undefined;
}

/** A ceremony's DOMException as the page's error (cancelled, not allowed, no such key). */
function _ceremonyError(err: unknown): UiError {
  if (err instanceof UiError) return err;
  const name = (err as { name?: string })?.name;
  if (name === "NotAllowedError" || name === "AbortError") {
    return new UiError(
      "passkey_cancelled",
      "The passkey dialog was cancelled or timed out, or found no passkey for this site. " +
        "Nothing was sent.",
    );
  }
  if (name === "InvalidStateError") {
    return new UiError("passkey_exists", "This authenticator already holds a passkey for you.");
  }
  if (name === "SecurityError" || name === "NotSupportedError") return _unavailable();
  return new UiError("passkey_cancelled", "The passkey could not be used. Nothing was sent.");
}

function _prfOf(cred: PublicKeyCredential): Uint8Array | null {
  const ext = cred.getClientExtensionResults() as {
    prf?: { enabled?: boolean; results?: { first?: BufferSource } };
  };
  const first = ext.prf?.results?.first;
  if (!first) return null;
  return first instanceof ArrayBuffer
    ? new Uint8Array(first)
    : new Uint8Array(first.buffer, first.byteOffset, first.byteLength);
}

function _prfExtension() {
  return { prf: { eval: { first: PASSKEY_PRF_INPUT as Uint8Array<ArrayBuffer> } } };
}

/** Registers a new passkey with `prf`; its answer (as JSON) and its PRF output. */
export async function createPasskey(
  o: PasskeyCreation,
): Promise<{ response: WebauthnJson; prf: Uint8Array }> {
  if (!passkeysAvailable()) throw _unavailable();
  let cred: PublicKeyCredential;
  try {
    cred = await navigator.credentials.create({
      publicKey: {
        challenge: _bytes(o.challenge),
        rp: { id: o.rpId, name: o.rpName },
        user: { id: _bytes(o.userId), name: o.userName, displayName: o.userName },
        pubKeyCredParams: o.algorithms.map((alg) => ({ type: "public-key" as const, alg })),
        excludeCredentials: o.excludeCredentials.map((id) => ({
          type: "public-key" as const,
          id: _bytes(id),
        })),
        authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
        attestation: "none",
        timeout: o.timeout,
        extensions: _prfExtension() as AuthenticationExtensionsClientInputs,
      },
    }) as PublicKeyCredential;
  } catch (err) {
    throw _ceremonyError(err);
  }
  const att = cred.response as AuthenticatorAttestationResponse;
  const response: WebauthnJson = {
    id: cred.id,
    rawId: _b64u(cred.rawId)!,
    type: "public-key",
    response: {
      clientDataJSON: _b64u(att.clientDataJSON),
      attestationObject: _b64u(att.attestationObject),
      transports: att.getTransports?.() ?? [],
    },
    clientExtensionResults: {},
    ...(cred.authenticatorAttachment
      ? { authenticatorAttachment: cred.authenticatorAttachment }
      : {}),
  };
  const ext = cred.getClientExtensionResults() as { prf?: { enabled?: boolean } };
  let prf = _prfOf(cred);
  if (!prf && ext.prf?.enabled === true) {
    // Some authenticators evaluate the PRF only when asked with an assertion: one more
    // touch, against a local challenge (this assertion goes nowhere).
    prf = await _prfByAssertion(o.rpId, cred.rawId, o.timeout);
  }
  if (!prf) throw new UiError("passkey_no_prf", _NO_PRF);
  return { response, prf };
}

async function _prfByAssertion(
  rpId: string,
  rawId: ArrayBuffer,
  timeout: number,
): Promise<Uint8Array | null> {
  try {
    const cred = await navigator.credentials.get({
      publicKey: {
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        rpId,
        allowCredentials: [{ type: "public-key", id: rawId }],
        userVerification: "required",
        timeout,
        extensions: _prfExtension() as AuthenticationExtensionsClientInputs,
      },
    }) as PublicKeyCredential;
    return _prfOf(cred);
  } catch (err) {
    throw _ceremonyError(err);
  }
}

/** Asks for an assertion over the vault's challenge; its answer and its PRF output. */
export async function getPasskeyAssertion(
  o: PasskeyRequest,
): Promise<{ response: WebauthnJson; prf: Uint8Array }> {
  if (!passkeysAvailable()) throw _unavailable();
  let cred: PublicKeyCredential;
  try {
    cred = await navigator.credentials.get({
      publicKey: {
        challenge: _bytes(o.challenge),
        rpId: o.rpId,
        allowCredentials: o.allowCredentials.map((id) => ({
          type: "public-key" as const,
          id: _bytes(id),
        })),
        userVerification: "required",
        timeout: o.timeout,
        extensions: _prfExtension() as AuthenticationExtensionsClientInputs,
      },
    }) as PublicKeyCredential;
  } catch (err) {
    throw _ceremonyError(err);
  }
  const prf = _prfOf(cred);
  if (!prf) throw new UiError("passkey_no_prf", _NO_PRF);
  const a = cred.response as AuthenticatorAssertionResponse;
  const userHandle = _b64u(a.userHandle);
  const response: WebauthnJson = {
    id: cred.id,
    rawId: _b64u(cred.rawId)!,
    type: "public-key",
    response: {
      clientDataJSON: _b64u(a.clientDataJSON),
      authenticatorData: _b64u(a.authenticatorData),
      signature: _b64u(a.signature),
      ...(userHandle ? { userHandle } : {}),
    },
    clientExtensionResults: {},
    ...(cred.authenticatorAttachment
      ? { authenticatorAttachment: cred.authenticatorAttachment }
      : {}),
  };
  return { response, prf };
}
