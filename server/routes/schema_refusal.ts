/**
 * A schema's refusal in plain words (docs/errors.md): the web server never answers with a
 * zod message ("Too big: expected string to have <=87382 characters"). A field a person
 * types is named as the page labels it and refused with its own stable code; a protocol
 * field (what the applet fills in itself) is named only by its key, with `bad_request`.
 * Every refusal carries `field`, the last key of the issue's path.
 *
 * @module
 */
import type { z } from "zod";
import { ApiError } from "../../platform/mod.ts";
import { type ErrorCode, MESSAGE_TOO_LONG_TEXT } from "../../protocol/mod.ts";

/** The identity rule, as the page states it. */
const _IDENTITY_RULE = "The identity must be 3 to 64 characters: a–z, 0–9, '.', '_' or '-', " +
  "starting with a letter or digit.";

/** Fields a person types: the label's words and the code their refusal carries. */
const _TYPED: Record<string, { term: string; code: ErrorCode; rule?: string }> = {
  identity: { term: "identity", code: "bad_identity", rule: _IDENTITY_RULE },
  "registration.identity": { term: "identity", code: "bad_identity", rule: _IDENTITY_RULE },
  "registration.fullName": { term: "full name", code: "bad_registration" },
  "registration.accountNumber": { term: "account number", code: "bad_registration" },
  "registration.address": { term: "address", code: "bad_registration" },
  phrase: {
    term: "consent phrase",
    code: "bad_phrase_format",
    rule: "The consent phrase is four groups of five letters and digits, as in your letter.",
  },
  reason: { term: "reason", code: "bad_request" },
  message: { term: "message", code: "bad_request" },
};

/** What is being parsed, in the words of a message: the envelope, the plaintext, an op. */
function _subject(what: string): string {
  if (what === "rpc") return "The sealed request";
  if (what === "session key") return "The session key request";
  return "The request";
}

/** A key the sender chose is named back only when it looks like a field name. */
function _echoable(key: string | undefined): boolean {
  return key !== undefined && /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(key);
}

/** The sentence for a typed field's issue. */
function _typedText(term: string, issue: z.core.$ZodIssue): string {
  if (issue.code === "too_big") {
    return `The ${term} is too long: at most ${issue.maximum} characters.`;
  }
  if (issue.code === "too_small") {
    return Number(issue.minimum) <= 1
      ? `The ${term} is empty.`
      : `The ${term} is too short: at least ${issue.minimum} characters.`;
  }
  if (issue.code === "invalid_type") return `The ${term} must be text.`;
  return `The ${term} is not acceptable.`;
}

/**
 * The refusal of `issue`, met while parsing `what` (`rpc` for the envelope, `request` for
 * the sealed plaintext, an operation's name for its arguments, `session key`).
 */
export function schemaRefusal(what: string, issue: z.core.$ZodIssue | undefined): ApiError {
  const path = (issue?.path ?? []).map(String);
  const key = path.join(".");
  const field = path.at(-1);
  const details = field ? { field } : undefined;
  if (what === "message.submit" && key === "message" && issue?.code === "too_big") {
    return new ApiError(400, "message_too_long", MESSAGE_TOO_LONG_TEXT, details);
  }
  const typed = issue && Object.hasOwn(_TYPED, key) && what !== "rpc" ? _TYPED[key] : undefined;
  if (typed) {
    return new ApiError(400, typed.code, typed.rule ?? _typedText(typed.term, issue!), details);
  }
  const where = issue?.code === "unrecognized_keys"
    ? ` (unexpected field${_echoable(issue.keys[0]) ? ` ${issue.keys[0]}` : ""})`
    : field
    ? ` (field ${key})`
    : "";
  return new ApiError(400, "bad_request", `${_subject(what)} is malformed${where}.`, details);
}
