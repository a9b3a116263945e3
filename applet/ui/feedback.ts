/// <reference lib="dom" />
/**
 * Where the page answers: one status line (`role="status"`) and one alert
 * (`role="alert"`), kept together and moved next to whatever the user just used, so
 * that an answer appears where the eye is. A new answer replaces the old one; an
 * error ends the status ("Signing in…" never stays beside "Wrong pass phrase").
 *
 * An error about a field marks that field (`aria-invalid`, its error slot named by
 * `aria-describedby`) and takes focus there; any other error takes focus to the alert.
 *
 * @module
 */
import { clearInvalid, markInvalid } from "./dom.ts";
import { explain, type ShownError } from "./messages.ts";
import { state } from "./state.ts";

// Held by reference: a redraw may detach the box before it is placed again.
const _els: { box: HTMLElement; status: HTMLElement; alert: HTMLElement } | null = (() => {
  if (typeof document === "undefined") return null;
  return {
    box: document.getElementById("feedback")!,
    status: document.getElementById("status")!,
    alert: document.getElementById("error")!,
  };
})();

function $(id: "feedback" | "status" | "error"): HTMLElement {
  const e = _els!;
  return id === "feedback" ? e.box : id === "status" ? e.status : e.alert;
}

/** Moves the status and alert after `anchor` (a form, a button, a view's header). */
export function placeFeedback(anchor: Element): void {
  const box = $("feedback");
  if (anchor.nextElementSibling !== box) anchor.after(box);
}

/** Puts the status and alert at the top of `container`. */
export function placeFeedbackIn(container: Element): void {
  container.prepend($("feedback"));
}

/** Shows `text` as the status (an empty text ends it); the alert is cleared. */
export function status(text: string): void {
  clearError();
  $("status").textContent = text;
}

/** Clears the alert and every field error. */
export function clearError(): void {
  const alert = $("error");
  alert.textContent = "";
  delete alert.dataset.code;
  delete alert.dataset.retryAfterMs;
  delete alert.dataset.retryable;
  clearInvalid();
}

/**
 * Shows `err` in the alert, in plain words, and ends the status. `fields` maps the
 * logical field names of the message table to this form's control ids; the first
 * one the error is about is marked and focused. `keepStatus` keeps a status that
 * explains the error (e.g. "Your session ended" after the page signed out).
 */
export function showError(
  err: unknown,
  fields: Record<string, string> = {},
  o: { keepStatus?: boolean } = {},
): void {
  const e = (err ?? {}) as ShownError;
  const { text, field } = explain(e, { signedIn: state.user !== null });
  if (!o.keepStatus) $("status").textContent = "";
  clearError();
  const alert = $("error");
  alert.textContent = text;
  alert.dataset.code = e.code ?? "error";
  if (e.retryAfterMs) alert.dataset.retryAfterMs = String(e.retryAfterMs);
  if (e.retryable) alert.dataset.retryable = "true";
  const id = field ? fields[field] : undefined;
  const control = id ? markInvalid(id, text) : null;
  alert.scrollIntoView?.({ block: "nearest" });
  if (control) control.focus();
  else alert.focus();
}
