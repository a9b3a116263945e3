/// <reference lib="dom" />
/**
 * "Consent letter": the registration data exactly as applied (prefilled when the
 * application was made in this tab) and the consent phrase from the letter
 * (DESIGN.md §2 step 4). The phrase's check digits catch a typo before anything is
 * sent; the vault says which field differs and how many attempts remain.
 *
 * @module
 */
import { parseConsentPhrase } from "../../protocol/mod.ts";
import { el, field, value } from "../ui/dom.ts";
import { status } from "../ui/feedback.ts";
import { actionForm } from "../ui/form.ts";
import { state } from "../ui/state.ts";
import { UiError, worker } from "../ui/worker_client.ts";
import {
  readRegistration,
  REGISTRATION_FIELD_IDS,
  registrationFields,
} from "./registration_fields.ts";
import { selectView } from "./navigate.ts";

/** The consent form. */
export function consentView(): HTMLElement {
  const prefilled = state.applied !== null;
  return actionForm({
    name: "Give consent",
    submit: "Give consent",
    fields: { ...REGISTRATION_FIELD_IDS, consentPhrase: "consent-phrase" },
    children: [
      el(
        "p",
        { class: "hint" },
        prefilled
          ? "Filled in from the application you made in this tab. Type the phrase from your letter."
          : "Type your registration data exactly as in your application, and the phrase from " +
            "your consent letter.",
      ),
      ...registrationFields(state.applied, { hints: false }),
      field("Consent phrase", "consent-phrase", {
        hint: "Four groups of five letters and digits, as printed in your letter.",
        attrs: {
          autocomplete: "off",
          autocapitalize: "characters",
          spellcheck: "false",
          required: true,
          maxlength: "40",
          placeholder: "XXXXX-XXXXX-XXXXX-XXXXX",
        },
      }),
    ],
    run: async () => {
      const registration = readRegistration();
      const phrase = value("consent-phrase").trim();
      try {
        parseConsentPhrase(phrase).fill(0); // typo check before anything is sent
      } catch (err) {
        const e = err as { code?: string; group?: number; message?: string };
        throw Object.assign(
          new UiError(e.code ?? "bad_phrase_format", e.message ?? "", { field: "consentPhrase" }),
          { group: e.group },
        );
      }
      status("Sending your consent…");
      const w = await worker();
      await w.call({ type: "consent", registration, phrase });
      state.applied = null;
      selectView("signin", false);
      (document.getElementById("identity") as HTMLInputElement).value = registration.identity;
      status("Consent accepted: your certificate is published. You can sign in now.");
      document.getElementById("passphrase")?.focus();
    },
  });
}
