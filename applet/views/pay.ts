/// <reference lib="dom" />
/**
 * Signed in, "Pay with the bank": a debit instruction signed with the user's key and
 * sent end to end to the bank (DESIGN.md §2 step 7); the bank's signed receipt,
 * verified with its pinned key, is shown in the "Receipt" region.
 *
 * @module
 */
import { fromUtf8, INSTRUCTION_LIMITS, utf8 } from "../../protocol/mod.ts";
import { type Payment, PaymentForm } from "../client/flows/payments.ts";
import { download, el, field, section, value } from "../ui/dom.ts";
import { placeFeedback, status } from "../ui/feedback.ts";
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

/** The "Receipt" region (a repeat names the first payment's receipt). */
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
  const duplicate = r.code === "duplicate_payment";
  // A repeat was not executed: the instruction just signed is not the one the receipt covers.
  const signed = duplicate ? [] : [
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
    ),
  ];
  return el(
    "section",
    { role: "region", "aria-label": "Receipt", class: "result receipt", id: "receipt" },
    el("h3", { tabindex: "-1" }, "Receipt"),
    duplicate
      ? el(
        "p",
        { id: "receipt-duplicate", "data-code": "duplicate_payment" },
        `You had sent this payment before: the ${rc.host} did not pay it again. ` +
          `This is the receipt of the first payment, ${rc.receiptId}.`,
      )
      : el("p", {}, `Executed by the ${rc.host}: receipt ${rc.receiptId}.`),
    el("dl", {}, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    el(
      "p",
      { class: "verified", id: "receipt-verified" },
      `Receipt signature verified with the ${rc.host}'s pinned integrity key ` +
        `(SHA-256 ${fingerprint} …).`,
    ),
    ...signed,
    el(
      "p",
      {},
      download(utf8(r.signedReceipt), `${rc.receiptId}-receipt.json`, "Download receipt"),
      " (with the bank's signature: check it later with ",
      el("code", {}, "deno task verify -- --receipt FILE"),
      ")",
    ),
  );
}

/** Removes the repeat question; the answers go back under the payment form. */
function _closeQuestion(slot: HTMLElement): void {
  placeFeedback(document.querySelector('form[aria-label="Pay with the bank"]')!);
  slot.replaceChildren();
}

/**
 * The question before a payment this tab already has a receipt for: "Send it again"
 * sends it with a fresh idempotency key, "Don't send" sends nothing.
 */
function _repeatQuestion(slot: HTMLElement, payment: Payment, send: () => Promise<void>): void {
  const dont = el("button", { type: "button", class: "secondary" }, "Don't send");
  const ask = actionForm({
    name: "Repeat payment",
    submit: "Send it again",
    children: [],
    run: async () => {
      _closeQuestion(slot);
      await send();
    },
  });
  ask.querySelector(".actions")!.prepend(dont);
  dont.addEventListener("click", () => {
    _closeQuestion(slot);
    status("Not sent.");
  });
  const what = `${payment.amount} to ${payment.to}` +
    (payment.reference ? `, reference ${payment.reference}` : "");
  slot.replaceChildren(
    el(
      "div",
      {
        role: "alertdialog",
        "aria-labelledby": "repeat-title",
        "aria-describedby": "repeat-text",
        class: "confirm",
        id: "repeat-question",
      },
      el("h3", { id: "repeat-title" }, "You already sent this payment. Send it again?"),
      el("p", { id: "repeat-text" }, `The bank has executed ${what} from this page.`),
      ask,
    ),
  );
  dont.focus();
}

/** The bank's currency, shown as fixed text (the worker puts it into the instruction). */
function _currency(): HTMLElement {
  // Plain text, no role: an <output> would be a second `status` region.
  const currency = el("strong", { id: "currency" }, "…");
  void worker().then((w) => w.call({ type: "hostInfo" })).then(
    (h) => (currency.textContent = h.currency),
    () => (currency.textContent = "(the bank is not reachable)"),
  );
  return el(
    "div",
    { class: "field" },
    el("span", { id: "currency-label", class: "label" }, "Currency"),
    el(
      "p",
      { class: "fixed" },
      currency,
      el("span", { class: "hint" }, " (the bank's only currency)"),
    ),
  );
}

/** The "Pay with the bank" section. */
export function paySection(): HTMLElement {
  const receiptSlot = el("div", { id: "receipt-slot" });
  const repeatSlot = el("div", { id: "repeat-slot" });
  const payments = new PaymentForm(); // this sign-in's payments, memory only
  const pay = async (payment: Payment, idempotencyKey: string) => {
    status("Signing and sending to the bank…");
    receiptSlot.replaceChildren();
    const w = await worker();
    const r = await w.call({ type: "sendToHost", debit: { ...payment, idempotencyKey } });
    payments.paid(payment, idempotencyKey);
    receiptSlot.replaceChildren(receiptRegion(r));
    status(
      r.code === "duplicate_payment"
        ? "Not paid again: the bank had executed this payment before. " +
          "Its original receipt's signature was verified."
        : "Executed by the bank; its signed receipt was verified.",
    );
    receiptSlot.querySelector("h3")?.focus(); // the result, read out and in view
  };
  const form = actionForm({
    name: "Pay with the bank",
    submit: "Send to bank",
    fields: { payee: "payee", amount: "amount", reference: "reference" },
    children: [
      field("Payee account", "payee", {
        attrs: {
          required: true,
          maxlength: String(INSTRUCTION_LIMITS.to),
          autocomplete: "off",
        },
      }),
      field("Amount", "amount", {
        attrs: { required: true, inputmode: "decimal", placeholder: "125.00", maxlength: "12" },
      }),
      _currency(),
      field("Reference", "reference", {
        attrs: { maxlength: String(INSTRUCTION_LIMITS.reference), autocomplete: "off" },
      }),
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
      const payment: Payment = {
        to,
        amount: normalizeAmount(value("amount")),
        reference: value("reference").trim(),
      };
      repeatSlot.replaceChildren();
      if (payments.isRepeat(payment)) {
        status(""); // the question says what happens next
        _repeatQuestion(repeatSlot, payment, () => pay(payment, payments.again(payment)));
        return;
      }
      await pay(payment, payments.keyFor(payment));
    },
  });
  return section("pay", "Pay with the bank", form, repeatSlot, receiptSlot);
}
