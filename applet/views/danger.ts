/// <reference lib="dom" />
/**
 * Signed in, "Danger zone": revoke the key. A modal `<dialog>` (role alertdialog)
 * asks for the current pass phrase; Escape or "Cancel" closes it, focus starts on
 * "Cancel", and the confirm button is styled as destructive.
 *
 * @module
 */
import { el, field, section, usernameHint } from "../ui/dom.ts";
import { placeFeedback } from "../ui/feedback.ts";
import { actionForm } from "../ui/form.ts";
import { terminate } from "../ui/lifetime.ts";
import { takePassphrase } from "../ui/passphrase.ts";
import { state } from "../ui/state.ts";
import { worker } from "../ui/worker_client.ts";

function _dialog(opener: HTMLButtonElement): HTMLDialogElement {
  const user = state.user!;
  const cancel = el("button", { type: "button", class: "secondary", autofocus: true }, "Cancel");
  const confirm = actionForm({
    name: "Confirm revocation",
    submit: "Yes, revoke my key",
    buttonClass: "danger",
    fields: { currentPassphrase: "revoke-current-passphrase" },
    children: [
      usernameHint(user.identity),
      field("Current pass phrase", "revoke-current-passphrase", {
        attrs: { type: "password", autocomplete: "current-password", required: true },
      }),
    ],
    run: async () => {
      const current = takePassphrase("revoke-current-passphrase");
      const w = await worker();
      const r = await w.call({ type: "revoke", currentPassphrase: current }, [current.buffer]);
      dialog.close();
      await terminate("revoked", r.serial ? ` (certificate ${r.serial})` : "");
    },
  });
  confirm.querySelector(".actions")!.prepend(cancel);
  const dialog = el(
    "dialog",
    {
      role: "alertdialog",
      "aria-labelledby": "revoke-title",
      "aria-describedby": "revoke-text",
      class: "confirm",
      id: "revoke-dialog",
    },
    el("h3", { id: "revoke-title" }, "Revoke your key?"),
    el(
      "p",
      { id: "revoke-text" },
      "The server erases your key record and pass phrase record, and the certificate " +
        `of ${user.identity} is revoked and listed on the CRL. Signatures you made stay ` +
        "checkable, but nobody can sign or sign in as this identity again.",
    ),
    confirm,
  );
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener.isConnected) {
      placeFeedback(opener);
      opener.focus();
    }
  });
  return dialog;
}

/** The "Danger zone" section. */
export function dangerSection(): HTMLElement {
  const open = el("button", { type: "button", class: "danger" }, "Revoke key");
  open.addEventListener("click", () => {
    if (state.busy) return;
    const dialog = _dialog(open);
    document.body.append(dialog);
    dialog.showModal();
    (dialog.querySelector("button.secondary") as HTMLButtonElement).focus();
  });
  return section(
    "danger",
    "Danger zone",
    el(
      "p",
      { class: "hint" },
      "Revoking is for a key you no longer trust or need: it cannot be undone.",
    ),
    open,
  );
}
