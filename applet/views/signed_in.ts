/// <reference lib="dom" />
/**
 * The signed-in page: a header with the identity and "Sign out", then the sections
 * Sign, Sign a document (collapsed; its code loads when it is opened), Pay, Account and
 * Danger zone.
 *
 * @module
 */
import { el } from "../ui/dom.ts";
import { terminate } from "../ui/lifetime.ts";
import { state } from "../ui/state.ts";
import { accountSection } from "./account.ts";
import { dangerSection } from "./danger.ts";
import { documentSection } from "./document.ts";
import { paySection } from "./pay.ts";
import { signSection } from "./sign.ts";

/** The header of the signed-in page. */
function _header(identity: string): HTMLElement {
  const signOut = el("button", { type: "button", class: "secondary", id: "sign-out" }, "Sign out");
  signOut.addEventListener("click", () => void terminate("sign-out"));
  return el(
    "div",
    { class: "signed-in-header", id: "signed-in-header" },
    el(
      "h2",
      { id: "signed-in-title", tabindex: "-1" },
      "Signed in as ",
      el("strong", { id: "signed-in-as" }, identity),
    ),
    signOut,
  );
}

/** The signed-in page for `state.user`. */
export function signedInView(): HTMLElement[] {
  const user = state.user!;
  return [
    _header(user.identity),
    signSection(),
    documentSection(),
    paySection(),
    accountSection(),
    dangerSection(),
  ];
}
