/// <reference lib="dom" />
/**
 * Signed in, "Account" → "Passkeys" (docs/passkeys.md): the list of the user's passkeys
 * (name, created, last used) each with "Remove", and "Add a passkey". Adding and
 * removing ask for the current pass phrase first; adding runs the browser's passkey
 * dialog in between, and its PRF output goes straight to the worker (transferred).
 * Where this page cannot use passkeys at all, the section says so instead of offering
 * the button.
 *
 * @module
 */
import { el, field, value } from "../ui/dom.ts";
import { placeFeedback, status } from "../ui/feedback.ts";
import { actionForm } from "../ui/form.ts";
import { takePassphrase } from "../ui/passphrase.ts";
import { createPasskey, passkeysAvailable } from "../ui/webauthn.ts";
import { UiError, worker } from "../ui/worker_client.ts";
import type { PasskeyInfo } from "../client/flows/mod.ts";

const _LIST_ID = "passkey-list";

function _date(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : "never";
}

/** Draws the list (a table with one row per passkey, each with its "Remove" form). */
function _drawList(passkeys: PasskeyInfo[]): void {
  const holder = document.getElementById(_LIST_ID);
  if (!holder) return;
  if (passkeys.length === 0) {
    holder.replaceChildren(el("p", { class: "hint" }, "No passkeys yet."));
    return;
  }
  const rows = passkeys.map((p, i) =>
    el(
      "tr",
      {},
      el("td", {}, p.name),
      el("td", {}, _date(p.createdAt)),
      el("td", {}, _date(p.lastUsedAt)),
      el("td", {}, _removeForm(p, i)),
    )
  );
  holder.replaceChildren(
    el(
      "table",
      { "aria-label": "Passkeys" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", {}, "Name"),
          el("th", {}, "Created"),
          el("th", {}, "Last used"),
          el("th", {}, ""),
        ),
      ),
      el("tbody", {}, ...rows),
    ),
  );
}

/** Loads the list from the vault (through the worker) and draws it. */
export async function refreshPasskeys(): Promise<void> {
  const w = await worker();
  const r = await w.call({ type: "passkeyList" });
  _drawList(r.passkeys);
}

function _removeForm(p: PasskeyInfo, i: number): HTMLFormElement {
  const id = `passkey-remove-passphrase-${i}`;
  return actionForm({
    name: `Remove passkey ${p.name}`,
    submit: "Remove",
    buttonClass: "danger",
    fields: { currentPassphrase: id },
    children: [
      field("Current pass phrase", id, {
        attrs: { type: "password", autocomplete: "current-password", required: true },
      }),
    ],
    run: async () => {
      if (!value(id)) {
        throw new UiError("empty_passphrase", "Type your current pass phrase.", {
          field: "currentPassphrase",
        });
      }
      const current = takePassphrase(id);
      status("Checking your current pass phrase…");
      const w = await worker();
      await w.call(
        { type: "passkeyRemove", credentialId: p.credentialId, currentPassphrase: current },
        [current.buffer],
      );
      await refreshPasskeys();
      // This form is gone with its row: the answer goes after the list.
      const list = document.getElementById(_LIST_ID);
      if (list) placeFeedback(list);
      status(`Passkey “${p.name}” removed. Your pass phrase still signs you in.`);
    },
  });
}

function _addForm(): HTMLFormElement {
  return actionForm({
    name: "Add a passkey",
    submit: "Add a passkey",
    fields: { currentPassphrase: "passkey-add-passphrase" },
    children: [
      field("Passkey name", "passkey-name", {
        attrs: { maxlength: "64", autocomplete: "off", placeholder: "e.g. Laptop, Security key" },
      }),
      field("Current pass phrase", "passkey-add-passphrase", {
        attrs: { type: "password", autocomplete: "current-password", required: true },
      }),
    ],
    run: async () => {
      if (!value("passkey-add-passphrase")) {
        throw new UiError("empty_passphrase", "Type your current pass phrase.", {
          field: "currentPassphrase",
        });
      }
      const name = value("passkey-name").trim() || "Passkey";
      const current = takePassphrase("passkey-add-passphrase");
      status("Checking your current pass phrase…");
      const w = await worker();
      const creation = await w.call({ type: "passkeyAddStart", currentPassphrase: current }, [
        current.buffer,
      ]);
      status("Follow your browser's passkey dialog…");
      const made = await createPasskey(creation);
      status("Adding the passkey…");
      const added = await w.call(
        { type: "passkeyAddFinish", response: made.response, prf: made.prf, name },
        [made.prf.buffer],
      );
      await refreshPasskeys();
      status(`Passkey “${added.name}” added: you can now sign in with it.`);
    },
  });
}

/** The "Passkeys" part of the Account section. */
export function passkeysPart(): HTMLElement[] {
  if (!passkeysAvailable()) {
    return [
      el("h3", {}, "Passkeys"),
      el(
        "p",
        { class: "hint" },
        "Passkeys are not available on this page: they need a browser with WebAuthn and the " +
          "page opened by its host name (for example http://localhost:8000).",
      ),
    ];
  }
  const list = el("div", { id: _LIST_ID }, el("p", { class: "hint" }, "Loading passkeys…"));
  // Not through runAction: this runs while the sign-in that drew the page is still busy.
  queueMicrotask(() => {
    refreshPasskeys().catch(() => {
      list.replaceChildren(
        el("p", { class: "hint" }, "The list of passkeys could not be loaded; reload to retry."),
      );
    });
  });
  return [
    el("h3", {}, "Passkeys"),
    el(
      "p",
      { class: "hint" },
      "A passkey or security key with the PRF extension can unlock your key instead of the " +
        "pass phrase. Your pass phrase always keeps working; removing a passkey never loses " +
        "your key. Your passkeys keep working after you re-register or change your pass phrase.",
    ),
    list,
    _addForm(),
  ];
}
