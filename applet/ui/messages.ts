/**
 * One table from error code to what the user reads and which field it is about.
 * The page never shows a server's message text: a code in this table gets the
 * applet's own words; any other code of the protocol gets its plain message from
 * `ERROR_MESSAGES` (protocol/errors.ts); a code of the applet's own (a flow's check
 * before sending) keeps the message the applet wrote. Field names are logical
 * (`identity`, `passphrase`, …); each form maps them to its controls.
 *
 * @module
 */
import { ERROR_MESSAGES, isErrorCode } from "../../protocol/mod.ts";

/** What an error carries to the page (a UiError, or a worker's reply). */
export interface ShownError {
  code?: string;
  message?: string;
  /** The consent phrase's group with a typo (1–4). */
  group?: number;
  retryAfterMs?: number;
  retryable?: boolean;
  /** From the server: `attemptsLeft`, `fields` (registration fields that differ). */
  details?: { attemptsLeft?: number; fields?: string[] };
  /** The logical field an applet-side check refused. */
  field?: string;
  /** True when the page itself refused: its message is the applet's own words. */
  own?: boolean;
}

/** The situation an error is read in. */
export interface Context {
  signedIn: boolean;
}

/** What the page shows for an error. */
export interface Explained {
  text: string;
  /** The logical field to mark and focus, if the error is about one. */
  field?: string;
}

/** Registration fields' user-facing names, by the protocol's property names. */
export const FIELD_LABELS: Record<string, string> = {
  identity: "Identity",
  fullName: "Full name",
  accountNumber: "Account number",
  address: "Address",
};

const _attempts = (e: ShownError) => {
  const n = e.details?.attemptsLeft;
  return typeof n === "number" ? ` ${n} attempt${n === 1 ? "" : "s"} left.` : "";
};

type _Entry = (e: ShownError, c: Context) => Explained;

const _TABLE: Record<string, _Entry> = {
  applet_tampered: () => ({
    text: "The applet's files do not match its build; it will not start.",
  }),
  applet_unavailable: () => ({
    text: "The applet could not be loaded: check the connection and reload the page.",
  }),
  untrusted_server: () => ({
    text: "This server's identity could not be verified; nothing was sent.",
  }),
  untrusted_vault: () => ({
    text: "The key vault's answer could not be verified; nothing was stored.",
  }),
  passkey_slot_untrusted: () => ({
    text: "A passkey's key in the server's answer is not the one you added, so the answer " +
      "may have been tampered with; nothing was changed.",
  }),
  phrase_typo: (e) => ({
    field: "consentPhrase",
    text: `The consent phrase has a typo in group ${e.group ?? "?"}; check it against your letter.`,
  }),
  bad_phrase_format: () => ({
    field: "consentPhrase",
    text: "The consent phrase is four groups of five letters and digits, as in your letter.",
  }),
  wrong_phrase: (e) => ({
    field: "consentPhrase",
    text: `This is not the consent phrase in your letter.${_attempts(e)}`,
  }),
  consent_locked: () => ({
    field: "consentPhrase",
    text: "Too many wrong consent phrases: the operator must reset your consent before you " +
      "can try again.",
  }),
  consent_expired: () => ({
    text: "The time to give consent has passed: apply to register again.",
  }),
  registration_mismatch: (e) => {
    const f = e.details?.fields?.find((k) => k in FIELD_LABELS);
    return {
      field: f,
      text: f
        ? `${FIELD_LABELS[f]} differs from your application: type it exactly as you applied.`
        : "The registration data differ from your application: type them exactly as you applied.",
    };
  },
  no_application: () => ({
    field: "identity",
    text: "There is no pending application for this identity.",
  }),
  unknown_identity: (_e, c) => ({
    field: "identity",
    text: c.signedIn ? "This identity is not known." : "There is no application for this identity.",
  }),
  already_active: () => ({ text: "Consent was given already: you can sign in." }),
  identity_taken: () => ({
    field: "identity",
    text: "This identity is taken: choose another one.",
  }),
  application_pending: () => ({
    field: "identity",
    text: "An application for this identity is waiting for consent: give consent with the " +
      "phrase from your letter.",
  }),
  empty_identity: () => ({ field: "identity", text: "Type your identity." }),
  bad_identity: () => ({
    field: "identity",
    text: "An identity is 3–64 lower-case letters, digits, dots, dashes or underscores.",
  }),
  empty_passphrase: () => ({ field: "passphrase", text: "Type your pass phrase." }),
  wrong_passphrase: (_e, c) =>
    c.signedIn
      ? {
        field: "currentPassphrase",
        text: "Wrong current pass phrase: nothing was changed, and you are still signed in.",
      }
      : { field: "passphrase", text: "Wrong identity or pass phrase." },
  login_failed: () => ({ field: "passphrase", text: "Wrong identity or pass phrase." }),
  reauth_required: () => ({
    field: "currentPassphrase",
    text: "Enter your current pass phrase again: nothing was changed.",
  }),
  weak_passphrase: (e) => ({
    field: "passphrase",
    text: e.message ?? "Choose a stronger pass phrase.",
  }),
  strength_unavailable: (e) => ({
    field: "passphrase",
    text: e.message ?? "The pass-phrase strength check could not be loaded; nothing was sent.",
  }),
  passphrase_mismatch: () => ({
    field: "passphraseConfirm",
    text: "The pass phrases do not match.",
  }),
  account_revoked: () => ({
    text: "This identity's key was revoked: it cannot sign in or sign any more. " +
      "Apply to register under a new identity.",
  }),
  account_pending: () => ({
    text: "This identity is waiting for consent: give consent with the phrase from your letter.",
  }),
  key_superseded: () => ({
    text: "Your key was replaced by a re-registration (perhaps in another window). " +
      "Sign out and sign in again.",
  }),
  duplicate_message: () => ({
    text: "The bank has executed this message before and refused it again.",
  }),
  idempotency_key_reused: () => ({
    text: "The bank refused: this payment form's key belongs to a different payment. " +
      "Nothing was paid.",
  }),
  wrong_currency: () => ({
    text: "The bank keeps accounts in another currency; nothing was paid.",
  }),
  insufficient_funds: () => ({
    field: "amount",
    text: "The bank refused: your balance does not cover this amount.",
  }),
  host_unavailable: () => ({ text: "The bank is not reachable right now; try again." }),
  host_timeout: () => ({
    text: "The bank did not answer in time: check your receipts before sending again.",
  }),
  session_ended: () => ({
    text: "Your session ended (the server restarted, or it was idle too long): sign in again.",
  }),
  empty_message: () => ({ field: "message", text: "Type a message to sign." }),
  bad_amount: () => ({ field: "amount", text: "Type the amount as a number like 125.00." }),
  bad_payee: () => ({ field: "payee", text: "Type the payee's account." }),
};

/** What the page shows for `e` in context `c`. */
export function explain(e: ShownError, c: Context): Explained {
  if (e.retryAfterMs) {
    return {
      text: `Too many attempts: wait ${Math.ceil(e.retryAfterMs / 1000)} s before trying again.`,
    };
  }
  const entry = e.code !== undefined && Object.hasOwn(_TABLE, e.code) ? _TABLE[e.code] : null;
  if (entry) return entry(e, c);
  if (e.retryable) {
    return { text: "The service is briefly unavailable; nothing was lost. Try again in a moment." };
  }
  if (e.own && e.message) return { text: e.message, field: e.field };
  if (e.code && isErrorCode(e.code)) return { text: ERROR_MESSAGES[e.code], field: e.field };
  // The applet's own checks (FlowError, UiError) carry words the applet wrote.
  return { text: e.message ?? "Something went wrong.", field: e.field };
}
