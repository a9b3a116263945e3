/// <reference lib="dom" />
/**
 * Pass phrases in the page, in one place: read a field into bytes and clear it at
 * once, compare a new phrase with its confirmation in constant time, apply the
 * policy, and wipe whatever is refused. The page never keeps a pass phrase: the
 * bytes are transferred to the worker, which wipes them after use.
 *
 * @module
 */
import { ctEqual, utf8, wipe } from "../../protocol/mod.ts";
import { UiError } from "./worker_client.ts";

/** The shortest pass phrase accepted for a new key record. */
export const MIN_PASSPHRASE_CHARS = 8;

/** Reads a pass phrase field into bytes and clears the field. */
export function takePassphrase(id: string): Uint8Array {
  const input = document.getElementById(id) as HTMLInputElement;
  const bytes = utf8(input.value);
  input.value = "";
  return bytes;
}

/** Reads a new pass phrase and its confirmation; throws a UiError (both wiped) if unusable. */
export function takeNewPassphrase(id: string, confirmId: string): Uint8Array {
  const pass = takePassphrase(id);
  const confirm = takePassphrase(confirmId);
  const same = ctEqual(pass, confirm);
  wipe(confirm);
  if (!same) {
    wipe(pass);
    throw new UiError("passphrase_mismatch", "The pass phrases do not match.");
  }
  if (pass.length < MIN_PASSPHRASE_CHARS) {
    wipe(pass);
    throw new UiError(
      "weak_passphrase",
      `The pass phrase must be at least ${MIN_PASSPHRASE_CHARS} characters.`,
      { field: "passphrase" },
    );
  }
  return pass;
}

/** Wipes every byte array given (for the error paths of a form). */
export function wipeAll(...secrets: (Uint8Array | undefined)[]): void {
  for (const s of secrets) if (s) wipe(s);
}
