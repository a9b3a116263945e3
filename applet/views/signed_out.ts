/// <reference lib="dom" />
/**
 * The signed-out page: how registration works (three lines), then three tabs —
 * "New registration", "Consent letter", "Sign in" — following the WAI-ARIA tabs
 * pattern (arrow keys, Home/End, `aria-selected`, roving tabindex). The URL fragment
 * (`#new-registration`, `#consent`, `#sign-in`) selects the tab, so a bookmark opens
 * the right one and nothing is stored.
 *
 * @module
 */
import { el } from "../ui/dom.ts";
import { state, type View } from "../ui/state.ts";
import { selectView } from "./navigate.ts";
import { registerView } from "./register.ts";
import { consentView } from "./consent.ts";
import { signInView } from "./sign_in.ts";

const _TABS: [View, string][] = [
  ["register", "New registration"],
  ["consent", "Consent letter"],
  ["signin", "Sign in"],
];

function _intro(): HTMLElement {
  return el(
    "div",
    { class: "intro" },
    el(
      "ol",
      { class: "steps", "aria-label": "How it works" },
      el("li", {}, el("strong", {}, "Apply"), ": your key pair is made in this browser."),
      el("li", {}, el("strong", {}, "Letter"), ": a consent phrase comes to you by post."),
      el(
        "li",
        {},
        el("strong", {}, "Consent"),
        ": type the phrase; your certificate is published.",
      ),
      el("li", {}, el("strong", {}, "Sign in"), " from any browser with your pass phrase."),
    ),
  );
}

function _tabs(): HTMLElement {
  const list = el("div", { role: "tablist", "aria-label": "What to do", class: "tabs" });
  _TABS.forEach(([view, label], i) => {
    const selected = state.view === view;
    const t = el("button", {
      type: "button",
      role: "tab",
      id: `tab-${view}`,
      "aria-selected": selected ? "true" : "false",
      "aria-controls": "panel",
      tabindex: selected ? "0" : "-1",
    }, label);
    t.addEventListener("click", () => selectView(view));
    t.addEventListener("keydown", (e) => {
      const n = _TABS.length;
      const to = e.key === "ArrowRight"
        ? (i + 1) % n
        : e.key === "ArrowLeft"
        ? (i + n - 1) % n
        : e.key === "Home"
        ? 0
        : e.key === "End"
        ? n - 1
        : -1;
      if (to < 0) return;
      e.preventDefault();
      selectView(_TABS[to][0]);
    });
    list.append(t);
  });
  return list;
}

/** The signed-out page for `state.view`: introduction, tabs, panel. */
export function signedOutView(): HTMLElement[] {
  const panel = el("div", {
    role: "tabpanel",
    id: "panel",
    "aria-labelledby": `tab-${state.view}`,
    class: "card",
  });
  panel.append(
    state.view === "register"
      ? registerView()
      : state.view === "consent"
      ? consentView()
      : signInView(),
  );
  return [_intro(), _tabs(), panel];
}
