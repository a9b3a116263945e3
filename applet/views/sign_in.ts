/// <reference lib="dom" />
/**
 * "Sign in": identity and pass phrase; OPAQUE and the key record's unwrapping run
 * in the worker (DESIGN.md §2 step 5). On success the signed-in view opens with
 * focus on its heading.
 *
 * @module
 */
import { field, value } from "../ui/dom.ts";
import { status } from "../ui/feedback.ts";
import { actionForm } from "../ui/form.ts";
import { armIdle } from "../ui/lifetime.ts";
import { takePassphrase } from "../ui/passphrase.ts";
import { render, setFragment, SIGNED_IN_FRAGMENT, state } from "../ui/state.ts";
import { UiError, worker } from "../ui/worker_client.ts";
import { REGISTRATION_LIMITS } from "../../protocol/mod.ts";

/** The sign-in form. */
export function signInView(): HTMLElement {
  return actionForm({
    name: "Sign in",
    submit: "Sign in",
    fields: { identity: "identity", passphrase: "passphrase" },
    children: [
      field("Identity", "identity", {
        attrs: {
          autocomplete: "username",
          autocapitalize: "none",
          spellcheck: "false",
          required: true,
          maxlength: String(REGISTRATION_LIMITS.identity),
        },
      }),
      field("Pass phrase", "passphrase", {
        attrs: { type: "password", autocomplete: "current-password", required: true },
      }),
    ],
    run: async () => {
      const identity = value("identity").trim().toLowerCase();
      if (!identity) throw new UiError("empty_identity", "Type your identity.");
      if (!value("passphrase")) throw new UiError("empty_passphrase", "Type your pass phrase.");
      const pass = takePassphrase("passphrase");
      status("Signing in…");
      const w = await worker();
      const r = await w.call({ type: "signIn", identity, passphrase: pass }, [pass.buffer]);
      state.user = r;
      setFragment(SIGNED_IN_FRAGMENT);
      armIdle();
      render();
      status(`Signed in as ${r.identity}.`);
      document.getElementById("signed-in-title")?.focus();
    },
  });
}
