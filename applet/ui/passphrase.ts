/// <reference lib="dom" />
/**
 * Pass phrases in the views: the policy, reading, suggestions and wiping live in
 * `applet/passphrase/` (docs/passphrase.md); this file only adds what the forms share.
 *
 * @module
 */
import { wipe } from "../../protocol/mod.ts";

export {
  MIN_LENGTH,
  newPassphraseHelp,
  takeNewPassphrase,
  takePassphrase,
} from "../passphrase/mod.ts";

/** Wipes every byte array given (for the error paths of a form). */
export function wipeAll(...secrets: (Uint8Array | undefined)[]): void {
  for (const s of secrets) if (s) wipe(s);
}
