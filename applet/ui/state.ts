/**
 * What the page remembers, in memory only (DESIGN.md §6: nothing is stored): the
 * view, who is signed in, whether an action runs, and the registration data of an
 * application made in this tab (to prefill the consent form). `render` is set by
 * page.ts, so that views and the session's end can redraw without importing it.
 *
 * @module
 */
import type { Registration } from "../../protocol/mod.ts";

/** The signed-out views, each with its URL fragment. */
export type View = "register" | "consent" | "signin";

/** View → URL fragment (a bookmark opens the view; nothing is stored). */
export const FRAGMENTS: Record<View, string> = {
  register: "new-registration",
  consent: "consent",
  signin: "sign-in",
};

/** The fragment while signed in: after a reload it says a session was wiped. */
export const SIGNED_IN_FRAGMENT = "signed-in";

/** The signed-in user, as the worker reported at sign-in. */
export interface User {
  identity: string;
  registration: Registration;
  certificate: string;
}

/** The page's state. */
export const state: {
  view: View;
  user: User | null;
  busy: boolean;
  /** The application made in this tab, until consent is given. */
  applied: Registration | null;
} = { view: "signin", user: null, busy: false, applied: null };

let _render: () => void = () => {};

/** Sets what {@link render} does (page.ts). */
export function setRenderer(fn: () => void): void {
  _render = fn;
}

/** Redraws the page for the current state. */
export function render(): void {
  _render();
}

/** The view a fragment names, if any. */
export function viewOfFragment(hash: string): View | null {
  const f = hash.replace(/^#/, "");
  for (const [view, frag] of Object.entries(FRAGMENTS)) if (frag === f) return view as View;
  return null;
}

/** Puts `fragment` in the URL without a history entry or a scroll. */
export function setFragment(fragment: string): void {
  if (location.hash !== `#${fragment}`) history.replaceState(null, "", `#${fragment}`);
}
