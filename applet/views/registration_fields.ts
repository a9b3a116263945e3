/// <reference lib="dom" />
/**
 * The four registration fields (identity, full name, account number, address),
 * with their rules shown before typing and `maxlength` from the protocol's limits,
 * and reading them back as checked, normalised {@link Registration} data. A broken
 * rule is a {@link UiError} about that field, in the user's words.
 *
 * @module
 */
import {
  normalizeRegistration,
  type Registration,
  REGISTRATION_LIMITS,
  RegistrationError,
} from "../../protocol/mod.ts";
import { field, value } from "../ui/dom.ts";
import { FIELD_LABELS } from "../ui/messages.ts";
import { UiError } from "../ui/worker_client.ts";

/** Logical field → control id, for the message table. */
export const REGISTRATION_FIELD_IDS: Record<string, string> = {
  identity: "identity",
  fullName: "full-name",
  accountNumber: "account-number",
  address: "address",
};

/** The identity rule, shown under the field. */
export const IDENTITY_RULE =
  "3–64 characters: lower-case letters, digits, dots, dashes and underscores, starting " +
  "with a letter or digit. You sign in with it, and it names your certificate.";

/** The `Identity` field (id `identity`), as registration and sign-in both ask for it. */
export function identityField(
  o: { hint?: string; value?: string; readonly?: boolean } = {},
): HTMLElement {
  return field("Identity", "identity", {
    hint: o.hint,
    attrs: {
      autocomplete: "username",
      autocapitalize: "none",
      spellcheck: "false",
      required: true,
      maxlength: String(REGISTRATION_LIMITS.identity),
      value: o.value ?? "",
      readonly: o.readonly ?? false,
    },
  });
}

/** The four fields, prefilled from `prefill`; the identity read-only if asked. */
export function registrationFields(
  prefill?: Registration | null,
  o: { identityReadOnly?: boolean; hints?: boolean } = {},
): HTMLElement[] {
  const hints = o.hints ?? true;
  return [
    identityField({
      hint: hints && !o.identityReadOnly ? IDENTITY_RULE : undefined,
      value: prefill?.identity ?? "",
      readonly: o.identityReadOnly ?? false,
    }),
    field("Full name", "full-name", {
      hint: hints ? "As on your bank account; the consent letter is addressed to it." : undefined,
      attrs: {
        autocomplete: "name",
        required: true,
        maxlength: String(REGISTRATION_LIMITS.fullName),
        value: prefill?.fullName ?? "",
      },
    }),
    field("Account number", "account-number", {
      attrs: {
        required: true,
        autocomplete: "off",
        maxlength: String(REGISTRATION_LIMITS.accountNumber),
        value: prefill?.accountNumber ?? "",
      },
    }),
    field("Address", "address", {
      hint: hints ? "Postal address: your consent letter is sent there." : undefined,
      attrs: {
        required: true,
        autocomplete: "street-address",
        maxlength: String(REGISTRATION_LIMITS.address),
        value: prefill?.address ?? "",
      },
    }),
  ];
}

function _plain(err: RegistrationError): string {
  const f = err.field ?? "identity";
  const label = FIELD_LABELS[f] ?? "This field";
  const m = err.message;
  if (m.endsWith("is empty")) {
    return f === "identity" ? "Type your identity." : `Type your ${label.toLowerCase()}.`;
  }
  if (m.includes("longer than")) {
    return `${label} is at most ${REGISTRATION_LIMITS[f]} characters.`;
  }
  if (m.includes("control character")) return `${label} contains a character that cannot be used.`;
  if (f === "identity") return `An identity is ${IDENTITY_RULE.split(".")[0].toLowerCase()}.`;
  return `${label} is not acceptable.`;
}

/** Reads the four fields; throws a {@link UiError} naming the first bad field. */
export function readRegistration(): Registration {
  try {
    return normalizeRegistration({
      identity: value("identity").trim().toLowerCase(),
      fullName: value("full-name"),
      accountNumber: value("account-number"),
      address: value("address"),
    });
  } catch (err) {
    if (!(err instanceof RegistrationError)) throw err;
    throw new UiError("bad_registration", _plain(err), { field: err.field ?? "identity" });
  }
}
