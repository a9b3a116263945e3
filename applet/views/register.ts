/// <reference lib="dom" />
/**
 * "New registration": the registration data, a new pass phrase and a key size; the
 * key pair is generated in the worker (progress bar) and the application sent
 * (DESIGN.md §2 step 3). On success the page moves to "Consent letter" with the data
 * just typed prefilled (memory only).
 *
 * @module
 */
import { el, field, value } from "../ui/dom.ts";
import { status } from "../ui/feedback.ts";
import { actionForm } from "../ui/form.ts";
import { MIN_LENGTH, newPassphraseHelp, takeNewPassphrase } from "../ui/passphrase.ts";
import { state } from "../ui/state.ts";
import { worker } from "../ui/worker_client.ts";
import {
  readRegistration,
  REGISTRATION_FIELD_IDS,
  registrationFields,
} from "./registration_fields.ts";
import { selectView } from "./navigate.ts";

/** The key-size select. */
export function keySizeField(): HTMLElement {
  return el(
    "div",
    { class: "field" },
    el("label", { for: "key-size" }, "Key size"),
    el(
      "select",
      { id: "key-size", name: "key-size" },
      el("option", { value: "2048", selected: true }, "2048 bits (default, fastest)"),
      el("option", { value: "3072" }, "3072 bits"),
      el("option", { value: "4096" }, "4096 bits (slowest)"),
    ),
  );
}

/** A progress bar for key generation, hidden until used. */
export function keygenProgress(id: string): HTMLProgressElement {
  return el("progress", {
    id,
    max: "1",
    value: "0",
    "aria-label": "Key generation",
    hidden: true,
  });
}

/**
 * New pass phrase + confirmation fields (ids given), with the live strength check and
 * "Suggest a pass phrase" on the first; `userInputs` are words it must not be built on.
 */
export function newPassphraseFields(
  labels: [string, string],
  ids: [string, string],
  userInputs: () => string[],
): HTMLElement[] {
  return [
    newPassphraseHelp(
      field(labels[0], ids[0], {
        hint: `At least ${MIN_LENGTH} characters and hard to guess: a few unrelated words, or ` +
          "a suggested phrase. Nobody can recover it for you.",
        attrs: { type: "password", autocomplete: "new-password", required: true },
      }),
      { confirmId: ids[1], userInputs },
    ),
    field(labels[1], ids[1], {
      attrs: { type: "password", autocomplete: "new-password", required: true },
    }),
  ];
}

/** The registration form. */
export function registerView(): HTMLElement {
  const progress = keygenProgress("keygen-progress");
  return actionForm({
    name: "Apply to register",
    submit: "Apply to register",
    fields: {
      ...REGISTRATION_FIELD_IDS,
      passphrase: "passphrase",
      passphraseConfirm: "passphrase-confirm",
    },
    children: [
      ...registrationFields(state.applied),
      ...newPassphraseFields(
        ["Pass phrase", "Confirm pass phrase"],
        ["passphrase", "passphrase-confirm"],
        () => [value("identity"), value("full-name")],
      ),
      keySizeField(),
      el(
        "p",
        { class: "hint" },
        "Your key pair is generated in this browser. The pass phrase never leaves it.",
      ),
      progress,
    ],
    run: async () => {
      const registration = readRegistration();
      const pass = await takeNewPassphrase("passphrase", "passphrase-confirm", [
        registration.identity,
        registration.fullName,
      ]);
      const bits = Number(value("key-size"));
      progress.hidden = false;
      status("Generating your key pair…");
      try {
        const w = await worker();
        const r = await w.call(
          { type: "apply", registration, passphrase: pass, bits },
          [pass.buffer],
          (p) => {
            progress.value = p;
            if (p >= 1) status("Sending your application…");
          },
        );
        state.applied = registration;
        selectView("consent", false);
        status(
          `Application received (${r.status}). A consent letter with your consent phrase is on ` +
            "its way" +
            (r.consentExpiresAt
              ? `; it expires ${new Date(r.consentExpiresAt).toLocaleString()}.`
              : ".") +
            " When it comes, type its phrase here.",
        );
        document.getElementById("consent-phrase")?.focus();
      } finally {
        progress.hidden = true;
      }
    },
  });
}
