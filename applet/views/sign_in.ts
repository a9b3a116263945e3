/// <reference lib="dom" />
/**
 * "Sign in": identity and pass phrase; OPAQUE and the key record's unwrapping run
 * in the worker (DESIGN.md §2 step 5). On success the signed-in view opens with
 * focus on its heading.
 *
 * @module
 */
import { el, field, value } from "../ui/dom.ts";
import { status } from "../ui/feedback.ts";
import { actionForm } from "../ui/form.ts";
import { armIdle } from "../ui/lifetime.ts";
import { takePassphrase } from "../ui/passphrase.ts";
import { render, setFragment, SIGNED_IN_FRAGMENT, state } from "../ui/state.ts";
import { UiError, worker } from "../ui/worker_client.ts";
import type { Registration } from "../../protocol/mod.ts";
import { getPasskeyAssertion, passkeysAvailable } from "../ui/webauthn.ts";
import { identityField } from "./registration_fields.ts";

/** The signed-in view, opened after either way of signing in. */
function _signedIn(r: { identity: string; registration: Registration; certificate: string }) {
  state.user = r;
  setFragment(SIGNED_IN_FRAGMENT);
  armIdle();
  render();
  status(`Signed in as ${r.identity}.`);
  document.getElementById("signed-in-title")?.focus();
}

/**
 * "Sign in with a passkey" (docs/passkeys.md): the identity typed above, or none for a
 * passkey the authenticator finds itself. The vault's challenge (checked in the worker),
 * the browser's dialog here, the assertion and the PRF output to the worker, which sends
 * the assertion only with a PRF output in hand.
 */
function _passkeyForm(): HTMLFormElement {
  return actionForm({
    name: "Sign in with a passkey",
    submit: "Sign in with a passkey",
    buttonClass: "secondary",
    fields: { identity: "identity" },
    children: [
      el(
        "p",
        { class: "hint" },
        "Or use a passkey or security key you added in your account (leave the pass phrase " +
          "empty; the identity may be left empty too).",
      ),
    ],
    run: async () => {
      const identity = value("identity").trim().toLowerCase();
      status("Follow your browser's passkey dialog…");
      const w = await worker();
      const request = await w.call({ type: "passkeySignInStart", identity });
      const got = await getPasskeyAssertion(request);
      status("Signing in…");
      const r = await w.call(
        { type: "passkeySignInFinish", response: got.response, prf: got.prf },
        [got.prf.buffer],
      );
      _signedIn(r);
    },
  });
}

/** The sign-in form, and "Sign in with a passkey" where the page can use passkeys. */
export function signInView(): HTMLElement {
  const passphrase = _passphraseForm();
  if (!passkeysAvailable()) return passphrase;
  return el("div", {}, passphrase, _passkeyForm());
}

function _passphraseForm(): HTMLFormElement {
  return actionForm({
    name: "Sign in",
    submit: "Sign in",
    fields: { identity: "identity", passphrase: "passphrase" },
    children: [
      identityField(),
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
      _signedIn(r);
    },
  });
}
