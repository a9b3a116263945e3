/// <reference lib="dom" />
/**
 * The applet page: plain DOM, no framework. It owns no secret: a pass phrase is read
 * from its field into bytes, the field cleared, and the bytes transferred to the
 * worker, which does everything else (DESIGN.md §1). On sign-out, `pagehide` or 10
 * idle minutes the worker wipes itself and is terminated. Nothing is stored anywhere.
 *
 * This file only wires the parts together:
 * - `ui/` — DOM helpers (`dom.ts`), the one status line and alert (`feedback.ts`), the
 *   error table (`messages.ts`), action forms (`form.ts`), pass phrases
 *   (`passphrase.ts`), the worker (`worker_client.ts`), the session's end
 *   (`lifetime.ts`) and the page's state (`state.ts`);
 * - `views/` — signed out: "New registration" (`register.ts`), "Consent letter"
 *   (`consent.ts`), "Sign in" (`sign_in.ts`) under tabs (`signed_out.ts`); signed in
 *   (`signed_in.ts`): Sign, Sign a document (`document.ts`, its worker loaded when the
 *   section is opened: `documents/client.ts`), Pay, Account, Danger zone.
 *
 * Accessible names are part of the interface (README, "Accessible names"): tabs
 * `New registration`, `Consent letter`, `Sign in`; buttons `Apply to register`,
 * `Give consent`, `Sign in`, `Sign message`, `Copy signature`, `Sign document`, `Send to bank`,
 * `Update registration`, `Re-register`, `Revoke key`, `Sign out`, `Add a passkey`,
 * `Sign in with a passkey`, `Remove`; fields `Identity`, `Full name`, `Account number`,
 * `Address`, `Pass phrase`, `Confirm pass phrase`, `Key size`, `Consent phrase`, `Message`,
 * `Document`, `Passkey name`; the links `Download signed PDF` and
 * `Download signature (.p7s)`; the regions `Signature`, `Document signature` and `Receipt`;
 * the table `Passkeys`.
 *
 * @module
 */
import { $, watchDownloads } from "./ui/dom.ts";
import { placeFeedback, showError, status } from "./ui/feedback.ts";
import { wasSignedIn, watchLifetime } from "./ui/lifetime.ts";
import { FRAGMENTS, setFragment, setRenderer, state, viewOfFragment } from "./ui/state.ts";
import { worker } from "./ui/worker_client.ts";
import { selectView } from "./views/navigate.ts";
import { signedInView } from "./views/signed_in.ts";
import { signedOutView } from "./views/signed_out.ts";

export { IDLE_MS } from "./ui/lifetime.ts";

/** Draws the page for the state; the status line and alert go after the tabs or header. */
function render(): void {
  const view = $("view");
  const nodes = state.user ? signedInView() : signedOutView();
  view.replaceChildren(...nodes);
  placeFeedback(nodes[state.user ? 0 : 1]);
  document.title = state.user ? `Signed in as ${state.user.identity} · roamsign` : "roamsign";
}

setRenderer(render);
watchDownloads($("view"));
watchLifetime();
addEventListener("hashchange", () => {
  const v = viewOfFragment(location.hash);
  if (v && !state.user && v !== state.view) selectView(v, false);
});

const reloaded = wasSignedIn();
// The worker first: its script's fetch, check and start run while the view is drawn.
const started = worker();
state.view = viewOfFragment(location.hash) ?? "signin";
setFragment(FRAGMENTS[state.view]);
render();
if (reloaded) status("You were signed out: reloading wipes the key from this page. Sign in again.");
started.then(
  () => {
    document.documentElement.dataset.applet = "ready";
    if (!reloaded) status("Applet ready.");
  },
  (err) => {
    document.documentElement.dataset.applet = "failed";
    showError(err);
  },
);
