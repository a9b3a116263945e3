/// <reference lib="dom" />
/**
 * Moving between the signed-out views: fragment, state, redraw, focus on the tab.
 *
 * @module
 */
import { clearError, status } from "../ui/feedback.ts";
import { FRAGMENTS, render, setFragment, state, type View } from "../ui/state.ts";

/** Selects `view`: fragment, state, redraw, and (if asked) focus on its tab. */
export function selectView(view: View, focusTab = true): void {
  state.view = view;
  setFragment(FRAGMENTS[view]);
  clearError();
  status("");
  render();
  if (focusTab) document.getElementById(`tab-${view}`)?.focus();
}
