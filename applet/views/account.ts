/// <reference lib="dom" />
/**
 * Signed in, "Account": update the registration data, and re-register (a new key
 * pair and certificate). Both ask for the current pass phrase first
 * (docs/lifecycle.md, "Re-authentication").
 *
 * @module
 */
import { el, field, section, usernameHint, value } from "../ui/dom.ts";
import { status } from "../ui/feedback.ts";
import { actionForm } from "../ui/form.ts";
import { takeNewPassphrase, takePassphrase, wipeAll } from "../ui/passphrase.ts";
import { state } from "../ui/state.ts";
import { passkeysAvailable } from "../ui/webauthn.ts";
import { worker } from "../ui/worker_client.ts";
import { passkeysPart, refreshPasskeys } from "./passkeys.ts";
import { keygenProgress, keySizeField, newPassphraseFields } from "./register.ts";
import {
  readRegistration,
  REGISTRATION_FIELD_IDS,
  registrationFields,
} from "./registration_fields.ts";

function _current(id: string): HTMLElement {
  return field("Current pass phrase", id, {
    attrs: { type: "password", autocomplete: "current-password", required: true },
  });
}

function _updateForm(): HTMLFormElement {
  const user = state.user!;
  return actionForm({
    name: "Update registration",
    submit: "Update registration",
    fields: { ...REGISTRATION_FIELD_IDS, currentPassphrase: "update-current-passphrase" },
    children: [
      ...registrationFields(user.registration, { identityReadOnly: true, hints: false }),
      _current("update-current-passphrase"),
    ],
    run: async () => {
      const registration = readRegistration();
      const current = takePassphrase("update-current-passphrase");
      status("Checking your current pass phrase…");
      const w = await worker();
      const r = await w.call(
        { type: "update", registration, currentPassphrase: current },
        [current.buffer],
      );
      user.registration = r.registration;
      status(
        r.pending
          ? "Registration updated. It takes effect when you next sign in with your pass " +
            "phrase (a passkey sign-in does not confirm it); until then the previous data " +
            "stay in force."
          : "Registration updated.",
      );
    },
  });
}

function _reregisterForm(): HTMLFormElement {
  const user = state.user!;
  const progress = keygenProgress("rereg-progress");
  return actionForm({
    name: "Re-register",
    submit: "Re-register",
    fields: {
      currentPassphrase: "rereg-current-passphrase",
      passphrase: "new-passphrase",
      passphraseConfirm: "new-passphrase-confirm",
    },
    children: [
      el(
        "p",
        { class: "hint" },
        "Re-registration makes a new key pair in this browser and replaces your key and " +
          "its certificate; the old certificate stays in the directory as superseded. " +
          "Choose a new pass phrase, or type your current one again.",
      ),
      usernameHint(user.identity),
      _current("rereg-current-passphrase"),
      ...newPassphraseFields(
        ["New pass phrase", "Confirm new pass phrase"],
        ["new-passphrase", "new-passphrase-confirm"],
        () => [user.identity, user.registration.fullName],
      ),
      keySizeField(),
      progress,
    ],
    run: async () => {
      const current = takePassphrase("rereg-current-passphrase");
      let pass: Uint8Array;
      try {
        pass = await takeNewPassphrase("new-passphrase", "new-passphrase-confirm", [
          user.identity,
          user.registration.fullName,
        ]);
      } catch (err) {
        wipeAll(current);
        throw err;
      }
      const bits = Number(value("key-size"));
      progress.hidden = false;
      status("Checking your current pass phrase, then generating your new key pair…");
      const w = await worker();
      const r = await w.call(
        { type: "reregister", passphrase: pass, currentPassphrase: current, bits },
        [pass.buffer, current.buffer],
        (p) => {
          progress.value = p;
          if (p >= 1) status("Re-registering…");
        },
      ).finally(() => {
        progress.hidden = true; // also when refused (e.g. a wrong current pass phrase)
      });
      user.certificate = r.certificate;
      document.getElementById("signature-slot")?.replaceChildren();
      const n = r.passkeysRewrapped;
      const kept = n > 0
        ? ` Your ${n === 1 ? "passkey still works" : `${n} passkeys still work`} with the new ` +
          "key; remove any you do not recognise."
        : "";
      status(
        `Re-registered: a new key pair and certificate ${r.serial}; ` +
          `certificate ${r.superseded} is superseded.${kept}`,
      );
      if (passkeysAvailable()) await refreshPasskeys().catch(() => undefined);
    },
  });
}

/** The "Account" section: registration data, passkeys and re-registration. */
export function accountSection(): HTMLElement {
  return section(
    "account",
    "Account",
    el("h3", {}, "Registration data"),
    _updateForm(),
    ...passkeysPart(),
    el("h3", {}, "Re-register"),
    _reregisterForm(),
  );
}
