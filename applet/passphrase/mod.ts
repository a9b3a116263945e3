/// <reference lib="dom" />
/**
 * Pass phrases in the page (browser only; docs/passphrase.md). One place for:
 *
 * - **Reading** a pass phrase field: {@link takePassphrase} encodes it to UTF-8 bytes and
 *   clears the field; the bytes go to the signing worker, which wipes them.
 * - **The policy for a new pass phrase** (`policy.ts`: ≥ 12 characters, zxcvbn score ≥ 3):
 *   {@link takeNewPassphrase} reads a new pass phrase and its confirmation and refuses a
 *   weak one, with the reason next to the field (`aria-describedby`, `aria-invalid`), before
 *   anything is sent. The server cannot apply the policy: it never sees the pass phrase.
 * - **Feedback and a generated phrase** on a new-pass-phrase field:
 *   {@link newPassphraseHelp} adds the live reason and the button "Suggest a pass phrase"
 *   (six EFF words, 77.5 bits).
 *
 * The strength check and the word list are a separate bundle, fetched only when the user
 * first types a new pass phrase or asks for a suggestion (`checker.ts`).
 *
 * @module
 */
import { ctEqual, fromUtf8, utf8, wipe } from "../../protocol/mod.ts";
import {
  assessPassphrase,
  endStrengthChecker,
  preloadStrengthChecker,
  suggestPassphrase,
} from "./checker.ts";
import { MIN_LENGTH } from "./policy.ts";

export { MIN_LENGTH, MIN_SCORE } from "./policy.ts";
export { strengthCheckerLoaded } from "./checker.ts";

/** Bits of a suggested phrase: 6 · log2(7776), rounded down to a tenth. */
const _SUGGESTED_BITS = "77.5";
/** Live feedback waits this long after the last keystroke. */
const _DEBOUNCE_MS = 250;

/** A refused pass phrase; `code` is `passphrase_mismatch`, `weak_passphrase` or `strength_unavailable`. */
export class PassphraseError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "PassphraseError";
    this.code = code;
  }
}

/** What a new-pass-phrase field needs to know. */
export interface NewPassphraseOptions {
  /** Id of the confirmation field (focused after a suggestion). */
  confirmId: string;
  /** Words the phrase should not be built on (identity, name); read when checking. */
  userInputs?: () => string[];
}

function _input(id: string): HTMLInputElement {
  const input = document.getElementById(id);
  if (!(input instanceof HTMLInputElement)) throw new Error(`passphrase: no input #${id}`);
  return input;
}

/** Id of the element that says why the phrase in field `id` is weak. */
function _messageId(id: string): string {
  return `${id}-strength`;
}

function _say(id: string, text: string, invalid = false): void {
  const message = document.getElementById(_messageId(id));
  if (message) message.textContent = text;
  const input = document.getElementById(id);
  if (invalid) input?.setAttribute("aria-invalid", "true");
  else input?.removeAttribute("aria-invalid");
}

/** Reads a pass phrase field into UTF-8 bytes and clears the field. */
export function takePassphrase(id: string): Uint8Array {
  const input = _input(id);
  const bytes = utf8(input.value);
  input.value = "";
  return bytes;
}

/** Live checks: the pending timer and a counter that makes older answers stale, per field. */
const _live = new Map<string, { timer: ReturnType<typeof setTimeout> | null; seq: number }>();

function _cancelLive(id: string): void {
  const live = _live.get(id);
  if (!live) return;
  if (live.timer !== null) clearTimeout(live.timer);
  live.timer = null;
  live.seq++;
}

/**
 * Reads a new pass phrase and its confirmation (both fields cleared) and applies the policy.
 * Throws a {@link PassphraseError} — with both copies wiped and the reason shown next to
 * the field — if they differ, if the phrase is weak, or if the strength check cannot be
 * loaded (fail closed). On success the strength worker is ended and the bytes returned.
 */
export async function takeNewPassphrase(
  id: string,
  confirmId: string,
  userInputs: string[] = [],
): Promise<Uint8Array> {
  _cancelLive(id);
  const pass = takePassphrase(id);
  const confirm = takePassphrase(confirmId);
  _input(id).type = "password"; // a suggestion was shown in the clear
  const same = ctEqual(pass, confirm);
  wipe(confirm);
  if (!same) {
    wipe(pass);
    throw new PassphraseError("passphrase_mismatch", "The pass phrases do not match.");
  }
  let verdict;
  try {
    verdict = await assessPassphrase(pass.slice(), userInputs);
  } catch (err) {
    wipe(pass);
    if ((err as { code?: string }).code === "applet_tampered") throw err;
    throw new PassphraseError(
      "strength_unavailable",
      "The pass-phrase strength check could not be loaded; nothing was sent. " +
        "Check the connection and try again.",
    );
  }
  if (!verdict.acceptable) {
    wipe(pass);
    const reason = verdict.reasons.join(" ");
    _say(id, reason, true);
    _input(id).focus();
    throw new PassphraseError("weak_passphrase", `Choose a stronger pass phrase. ${reason}`);
  }
  _say(id, "");
  endStrengthChecker();
  return pass;
}

async function _checkLive(id: string, userInputs: () => string[]): Promise<void> {
  const live = _live.get(id)!;
  const seq = ++live.seq;
  const text = _input(id).value;
  if (text.length === 0) return _say(id, "");
  let shown: string;
  try {
    const verdict = await assessPassphrase(utf8(text), userInputs());
    shown = verdict.acceptable ? "Strong enough." : verdict.reasons.join(" ");
  } catch {
    shown = "The strength check could not be loaded; it runs again when you apply.";
  }
  if (live.seq === seq) _say(id, shown);
}

async function _suggest(id: string, o: NewPassphraseOptions): Promise<void> {
  _cancelLive(id);
  _say(id, "Choosing six random words…");
  let bytes: Uint8Array | null = null;
  try {
    bytes = await suggestPassphrase();
    const input = _input(id);
    input.type = "text"; // shown, so it can be written down
    input.value = fromUtf8(bytes);
    _input(o.confirmId).value = "";
    _say(
      id,
      `Suggested: six random words (${_SUGGESTED_BITS} bits). Write them down or keep them ` +
        "in a password manager: you need them to sign in. Type them again below to confirm.",
    );
    _input(o.confirmId).focus();
  } catch {
    _say(id, "No suggestion could be made: the strength check could not be loaded.");
  } finally {
    wipe(bytes);
  }
}

/**
 * Adds to the new-pass-phrase field `field` (the `.field` element holding input `#id`): a
 * message element the input's `aria-describedby` points at, live feedback as the user
 * types (the first keystroke loads the strength bundle), and a "Suggest a pass phrase"
 * button. Returns `field`.
 */
export function newPassphraseHelp(field: HTMLElement, o: NewPassphraseOptions): HTMLElement {
  const input = field.querySelector("input");
  if (!input) throw new Error("passphrase: the field has no input");
  const id = input.id;
  input.minLength = MIN_LENGTH;
  const message = document.createElement("p");
  message.id = _messageId(id);
  message.className = "hint strength";
  message.setAttribute("aria-live", "polite");
  const described = input.getAttribute("aria-describedby");
  input.setAttribute("aria-describedby", described ? `${described} ${message.id}` : message.id);
  const suggest = document.createElement("button");
  suggest.type = "button";
  suggest.className = "secondary";
  suggest.textContent = "Suggest a pass phrase";
  suggest.addEventListener("click", () => void _suggest(id, o));
  _live.set(id, { timer: null, seq: 0 });
  input.addEventListener("input", () => {
    const live = _live.get(id)!;
    input.removeAttribute("aria-invalid");
    preloadStrengthChecker();
    if (live.timer !== null) clearTimeout(live.timer);
    live.timer = setTimeout(() => {
      live.timer = null;
      void _checkLive(id, o.userInputs ?? (() => []));
    }, _DEBOUNCE_MS);
  });
  field.append(message, suggest);
  return field;
}
