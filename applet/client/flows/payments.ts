/**
 * The payment form's memory (docs/host-bank.md, "Paying once"): which idempotency key
 * a payment goes with, and whether this tab has paid the same payment before. Pure data,
 * no crypto beyond `getRandomValues`, so the page holds it (memory only: nothing is
 * stored, and it ends with the signed-in view).
 *
 * The rules:
 * - A key belongs to one filling of the form: every submission of the same payment
 *   (payee, amount, reference) goes with the same key, so a double click or a retry after
 *   a lost answer is executed once by the bank, which answers the repeat with the
 *   original receipt (`duplicate_payment`). Change the payment and it gets a new key.
 * - {@link PaymentForm.isRepeat} is true when this tab holds a receipt for the same
 *   payment: the page then asks "You already sent this payment. Send it again?" before
 *   sending anything.
 * - {@link PaymentForm.again}: the user confirmed a deliberate second payment; it gets a
 *   fresh key (unless the key in hand was never confirmed paid: then the bank decides, so
 *   a lost answer is not paid twice over).
 *
 * @module
 */
import { b64uEncode, randomBytes } from "../../../protocol/mod.ts";
import type { DebitInstruction } from "../../../protocol/mod.ts";

/** What the user types into the payment form (the currency is the bank's). */
export type Payment = Pick<DebitInstruction, "to" | "amount" | "reference">;

/** One payment form's keys and the payments this tab got receipts for. */
export class PaymentForm {
  readonly #newKey: () => string;
  /** The key of the form's current filling, and the payment it was drawn for. */
  #current: { key: string; payment: string } | null = null;
  /** Payments with a receipt in this tab, by {@link _same}. */
  readonly #paid = new Set<string>();
  /** Keys the bank has executed (a receipt came back for them). */
  readonly #paidKeys = new Set<string>();

  /** `newKey` draws an idempotency key (default: 16 random bytes, base64url). */
  constructor(newKey: () => string = () => b64uEncode(randomBytes(16))) {
    this.#newKey = newKey;
  }

  /** True when this tab already holds a receipt for the same payment. */
  isRepeat(p: Payment): boolean {
    return this.#paid.has(_same(p));
  }

  /** The key to send `p` with: the current filling's, or a new one if the payment changed. */
  keyFor(p: Payment): string {
    const payment = _same(p);
    if (this.#current?.payment !== payment) this.#current = { key: this.#newKey(), payment };
    return this.#current.key;
  }

  /** The key for a deliberate repeat of a payment already made, after the user confirmed. */
  again(p: Payment): string {
    const key = this.keyFor(p);
    if (!this.#paidKeys.has(key)) return key;
    this.#current = { key: this.#newKey(), payment: _same(p) };
    return this.#current.key;
  }

  /** Records the receipt for `p`, sent with `key`. */
  paid(p: Payment, key: string): void {
    this.#paid.add(_same(p));
    this.#paidKeys.add(key);
  }
}

/** What makes two payments the same one: the bank compares these three fields. */
function _same(p: Payment): string {
  return JSON.stringify([p.to, p.amount, p.reference]);
}
