/**
 * Sign and submit a message (DESIGN.md §2 step 6).
 *
 * @module
 */
import { signPkcs1v15 } from "../../../wasm-crypto/mod.ts";
import {
  b64uEncode,
  isReservedMessage,
  MESSAGE_MAX_BYTES,
  MESSAGE_TOO_LONG_TEXT,
} from "../../../protocol/mod.ts";
import type { Session } from "../session.ts";
import { FlowError, retrying } from "./common.ts";
import type { SignedIn } from "./sign_in.ts";

export interface SignResult {
  signature: Uint8Array;
  verified: boolean;
  serial?: string;
}

/**
 * Sign a message (DESIGN.md §2.7): RSASSA-PKCS1-v1_5 SHA-256 with SKu, then
 * submitted over the channel, where the server verifies it with WebCrypto
 * against the directory certificate. A message that begins like a protocol structure
 * (`isReservedMessage`) is refused before anything is signed (`reserved_message`), and so
 * is one over `MESSAGE_MAX_BYTES` (`message_too_long`): neither is sent.
 */
export async function signAndSubmit(
  session: Session,
  user: SignedIn,
  message: Uint8Array,
): Promise<SignResult> {
  if (message.length > MESSAGE_MAX_BYTES) {
    throw new FlowError("message_too_long", `${MESSAGE_TOO_LONG_TEXT} Nothing was sent.`);
  }
  // Domain separation (protocol/host.ts): a message must not be a protocol structure.
  if (isReservedMessage(message)) {
    throw new FlowError(
      "reserved_message",
      "This text begins like a roamsign instruction or request, so it cannot be signed as a message.",
    );
  }
  const signature = signPkcs1v15(user.key, "SHA-256", message);
  // Verification changes nothing: retrying it is always safe.
  const r = await retrying(() =>
    session.call<{ verified: boolean; serial?: string }>("message.submit", {
      message: b64uEncode(message),
      signature: b64uEncode(signature),
      alg: "RSASSA-PKCS1-v1_5-SHA256",
    })
  );
  return { signature, verified: r.verified === true, serial: r.serial };
}

/**
 * Update registration (DESIGN.md §2.5): the record's hash covers the
 * registration data, so the record is re-sealed under the same KEK for the new
 * data, and the request is signed with SKu.
 */
