/// <reference lib="dom" />
/**
 * Signed in, "Pay with the bank": a debit instruction signed with the user's key and
 * sent end to end to the bank (DESIGN.md §2 step 7); the bank's signed receipt,
 * verified with its pinned key, is shown in the "Receipt" region.
 *
 * @module
 */
import { fromUtf8, utf8 } from "../../protocol/mod.ts";
import { download, el, field, section, value } from "../ui/dom.ts";
import { status } from "../ui/feedback.ts";
import { actionForm } from "../ui/form.ts";
import { UiError, worker } from "../ui/worker_client.ts";
import type { Results } from "../worker_api.ts";

/** `125` → `125.00`, `125.5` → `125.50`; throws a UiError for anything else. */
export function normalizeAmount(text: string): string {
  const t = text.trim();
  const m = /^(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,2}))?$/.exec(t);
  if (!m || Number(t) <= 0) {
    throw new UiError("bad_amount", "Type the amount as a number like 125.00.", {
      field: "amount",
    });
  }
  return `${m[1]}.${(m[2] ?? "").padEnd(2, "0")}`;
}

/** The "Receipt" region. */
export function receiptRegion(r: Results["sendToHost"]): HTMLElement {
  const rc = r.receipt;
  const rows: [string, string][] = [
    ["Paid to", rc.debit.to],
    ["Amount", `${rc.debit.amount} ${rc.debit.currency}`],
    ["Reference", rc.debit.reference || "—"],
    ["Balance after", `${rc.balance} ${rc.debit.currency}`],
    ["Message id", rc.messageId],
    ["Signed with certificate", rc.serial],
    ["Processed", rc.processedAt],
  ];
  const fingerprint = r.hostFingerprint.slice(0, 32).replace(/(.{4})(?!$)/g, "$1 ");
  return el(
    "section",
    { role: "region", "aria-label": "Receipt", class: "result receipt", id: "receipt" },
    el("h3", {}, "Receipt"),
    el("p", {}, `Executed by the ${rc.host}: receipt ${rc.receiptId}.`),
    el("dl", {}, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    el(
      "p",
      { class: "verified", id: "receipt-verified" },
      `Receipt signature verified with the ${rc.host}'s integrity key (SHA-256 ${fingerprint} …).`,
    ),
    el(
      "details",
      {},
      el("summary", {}, "What you signed"),
      el("pre", { id: "instruction-text" }, fromUtf8(r.message)),
    ),
    el(
      "p",
      { class: "downloads" },
      download(r.message, `${rc.messageId}.txt`, "Download signed instruction"),
      " · ",
      download(r.signature, `${rc.messageId}.sig`, "Download instruction signature"),
      " · ",
      download(utf8(r.receiptText), `${rc.receiptId}-receipt.json`, "Download receipt"),
    ),
  );
}

/** The "Pay with the bank" section. */
export function paySection(): HTMLElement {
  const receiptSlot = el("div", { id: "receipt-slot" });
  const form = actionForm({
    name: "Pay with the bank",
    submit: "Send to bank",
    fields: { payee: "payee", amount: "amount", currency: "currency", reference: "reference" },
    children: [
      field("Payee account", "payee", {
        attrs: { required: true, maxlength: "64", autocomplete: "off" },
      }),
      field("Amount", "amount", {
        attrs: { required: true, inputmode: "decimal", placeholder: "125.00", maxlength: "12" },
      }),
      field("Currency", "currency", {
        attrs: {
          required: true,
          value: "GBP",
          maxlength: "3",
          autocapitalize: "characters",
        },
      }),
      field("Reference", "reference", { attrs: { maxlength: "140", autocomplete: "off" } }),
      el(
        "p",
        { class: "hint" },
        "The instruction is signed with your key and sent end to end to the bank: " +
          "this server only routes it encrypted.",
      ),
    ],
    run: async () => {
      const to = value("payee").trim();
      if (!to) throw new UiError("bad_payee", "Type the payee's account.", { field: "payee" });
      const debit = {
        to,
        amount: normalizeAmount(value("amount")),
        currency: value("currency").trim().toUpperCase(),
        reference: value("reference").trim(),
      };
      status("Signing and sending to the bank…");
      receiptSlot.replaceChildren();
      const w = await worker();
      const r = await w.call({ type: "sendToHost", debit });
      receiptSlot.replaceChildren(receiptRegion(r));
      status("Executed by the bank; its signed receipt was verified.");
      receiptSlot.scrollIntoView?.({ block: "nearest" });
    },
  });
  return section("pay", "Pay with the bank", form, receiptSlot);
}
