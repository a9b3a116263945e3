/// <reference lib="dom" />
/**
 * An action form: a `<form>` named for what it does, whose submit button runs one
 * action at a time. While it runs every button is disabled; its answer (status or
 * alert) appears right after the form; when it fails the status ends and the alert
 * says why, marking the field it is about.
 *
 * @module
 */
import { el } from "./dom.ts";
import { clearError, placeFeedback, showError, status } from "./feedback.ts";
import { terminate } from "./lifetime.ts";
import { state } from "./state.ts";

/** What {@link actionForm} takes. */
export interface ActionForm {
  /** The form's accessible name. */
  name: string;
  /** The submit button's text (an accessible name: README, "Accessible names"). */
  submit: string;
  children: HTMLElement[];
  /** Logical field name (messages.ts) → control id in this form. */
  fields?: Record<string, string>;
  /** The action; it reports progress and success with `status()`. */
  run: () => Promise<void>;
  /** Extra class of the submit button (e.g. `danger`). */
  buttonClass?: string;
}

/** Runs `run` as the page's one action: buttons disabled, errors shown next to `anchor`. */
export async function runAction(
  anchor: Element,
  run: () => Promise<void>,
  fields: Record<string, string> = {},
): Promise<void> {
  if (state.busy) return;
  placeFeedback(anchor);
  clearError();
  status("");
  state.busy = true;
  // Disabling the buttons drops focus to the body: it comes back after the action.
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  for (const b of document.querySelectorAll("button")) b.disabled = true;
  try {
    await run();
    _restoreFocus(focused);
  } catch (err) {
    if ((err as { code?: string })?.code === "session_ended" && state.user) {
      // The worker already wiped the key: back to signed-out, which says why.
      state.busy = false;
      await terminate("ended");
      showError(err, {}, { keepStatus: true });
      return;
    }
    // The form may have been redrawn: answer where it is now.
    if (anchor.isConnected) placeFeedback(anchor);
    showError(err, fields);
  } finally {
    state.busy = false;
    for (const b of document.querySelectorAll("button")) b.disabled = false;
  }
}

/** Puts focus back where it was if the action left it nowhere (on the body). */
function _restoreFocus(was: HTMLElement | null): void {
  queueMicrotask(() => {
    const now = document.activeElement;
    if (now && now !== document.body) return;
    if (was?.isConnected) was.focus();
  });
}

/** A form whose submit runs `o.run` through {@link runAction}. */
export function actionForm(o: ActionForm): HTMLFormElement {
  const f = el("form", { "aria-label": o.name, novalidate: true }, ...o.children);
  f.append(
    el(
      "div",
      { class: "actions" },
      el("button", { type: "submit", class: o.buttonClass ?? "" }, o.submit),
    ),
  );
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    void runAction(f, o.run, o.fields);
  });
  return f;
}
