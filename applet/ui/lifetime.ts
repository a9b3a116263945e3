/// <reference lib="dom" />
/**
 * How a signed-in page ends (DESIGN.md §2.11): sign-out, 10 idle minutes (with a
 * warning and "Stay signed in" a minute before), `pagehide`, revocation, or a session
 * the server no longer knows. Each wipes the worker and terminates it; the page
 * returns to the sign-in view and says why.
 *
 * Leaving is guarded: `beforeunload` asks first while a form holds typed input; and a
 * reload of a signed-in page (its URL fragment is `#signed-in`, nothing is stored)
 * says "You were signed out: reloading wipes the key from this page."
 *
 * @module
 */
import { endDocumentWorker } from "../documents/client.ts";
import { el } from "./dom.ts";
import { clearError, placeFeedbackIn, status } from "./feedback.ts";
import { detachWorker } from "./worker_client.ts";
import { FRAGMENTS, render, setFragment, SIGNED_IN_FRAGMENT, state } from "./state.ts";

/** Idle time after which a signed-in applet wipes itself (DESIGN.md §2.11). */
export const IDLE_MS = 10 * 60_000;
/** How long before the idle sign-out the page warns. */
export const IDLE_WARNING_MS = 60_000;

/** Why a session ends. */
export type EndReason = "sign-out" | "idle" | "pagehide" | "revoked" | "ended";

const _SAID: Record<Exclude<EndReason, "pagehide">, (detail: string) => string> = {
  "sign-out": () => "Signed out. The applet's memory was wiped.",
  idle: () => "Signed out after 10 idle minutes. The applet's memory was wiped.",
  ended: () => "Your session ended: sign in again. The applet's memory was wiped.",
  revoked: (detail) =>
    `Your key was revoked${detail}: it can no longer sign, and the server has erased it. ` +
    "Signed out; the applet's memory was wiped.",
};

/** Wipes and terminates the worker; the page returns to signed-out and says why. */
export async function terminate(reason: EndReason, detail = ""): Promise<void> {
  _clearIdle();
  clearError(); // nothing of the signed-in page's answers outlives it
  const w = detachWorker();
  endDocumentWorker(); // the file's bytes and hashes go with the session
  state.user = null;
  if (w) await w.end(reason !== "pagehide");
  if (reason === "pagehide") return;
  state.view = "signin";
  setFragment(FRAGMENTS.signin);
  render();
  placeFeedbackIn(document.getElementById("view")!);
  status(_SAID[reason](detail));
}

// ---- idle ----------------------------------------------------------------------------

let _idle: ReturnType<typeof setTimeout> | null = null;
let _warn: ReturnType<typeof setTimeout> | null = null;

function _clearIdle(): void {
  if (_idle !== null) clearTimeout(_idle);
  if (_warn !== null) clearTimeout(_warn);
  _idle = _warn = null;
  document.getElementById("idle-warning")?.remove();
}

/** (Re)starts the idle timer of a signed-in page. */
export function armIdle(): void {
  _clearIdle();
  if (!state.user) return;
  _warn = setTimeout(_showIdleWarning, IDLE_MS - IDLE_WARNING_MS);
  _idle = setTimeout(() => void terminate("idle"), IDLE_MS);
}

function _showIdleWarning(): void {
  const stay = el("button", { type: "button" }, "Stay signed in");
  stay.addEventListener("click", () => armIdle());
  const box = el(
    "div",
    {
      id: "idle-warning",
      role: "alertdialog",
      "aria-labelledby": "idle-warning-text",
      class: "banner",
    },
    el(
      "p",
      { id: "idle-warning-text" },
      "You will be signed out in one minute because nothing happened for 9 minutes.",
    ),
    stay,
  );
  document.body.prepend(box);
  stay.focus();
}

// ---- leaving -------------------------------------------------------------------------

/** True while a form on the page holds something typed (a pass phrase field counts). */
function _holdsInput(): boolean {
  for (
    const c of document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>(
      "#view input:not([readonly]):not([type=hidden]), #view textarea",
    )
  ) {
    if (c.value !== c.defaultValue) return true;
  }
  return false;
}

/** Installs the page's lifetime listeners (once, from page.ts). */
export function watchLifetime(): void {
  for (const ev of ["pointerdown", "keydown", "input"]) {
    addEventListener(ev, () => {
      if (state.user && !document.getElementById("idle-warning")) armIdle();
    }, { passive: true, capture: true });
  }
  addEventListener("pagehide", () => void terminate("pagehide"));
  addEventListener("beforeunload", (e) => {
    if (_holdsInput()) e.preventDefault();
  });
}

/** True when this load is a reload (or Back) of a page that was signed in. */
export function wasSignedIn(): boolean {
  return location.hash === `#${SIGNED_IN_FRAGMENT}`;
}
