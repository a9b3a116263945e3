import { assertEquals } from "../../../tests/fixtures/assert.ts";
import { PaymentForm } from "./payments.ts";

/** A form whose keys are k1, k2, … so that tests can name them. */
function form(): PaymentForm {
  let n = 0;
  return new PaymentForm(() => `k${++n}`);
}
const rent = { to: "20-00-00 12345678", amount: "125.00", reference: "rent" };

Deno.test("PaymentForm.keyFor(): one key per filling; a changed payment gets a new one", () => {
  const f = form();
  assertEquals(f.keyFor(rent), "k1");
  assertEquals(f.keyFor(rent), "k1"); // a retry or double click: the bank recognises it
  assertEquals(f.keyFor({ ...rent, amount: "126.00" }), "k2");
  assertEquals(f.keyFor({ ...rent, reference: "rent " }), "k3");
  assertEquals(f.keyFor(rent), "k4");
});

Deno.test("PaymentForm.isRepeat() is true only for a payment this tab has a receipt for", () => {
  const f = form();
  assertEquals(f.isRepeat(rent), false);
  const key = f.keyFor(rent);
  assertEquals(f.isRepeat(rent), false); // sent, no receipt yet: no question
  f.paid(rent, key);
  assertEquals(f.isRepeat(rent), true);
  assertEquals(f.isRepeat({ ...rent, to: "20-00-00 87654321" }), false);
  assertEquals(new PaymentForm().isRepeat(rent), false); // another sign-in starts afresh
});

Deno.test("PaymentForm.again(): a confirmed repeat of a paid payment gets a fresh key", () => {
  const f = form();
  const first = f.keyFor(rent);
  f.paid(rent, first);
  assertEquals(f.keyFor(rent), first); // unconfirmed, it would be the bank's duplicate
  const second = f.again(rent);
  assertEquals(second !== first, true);
  // The deliberate repeat's answer was lost: asked again, it keeps the key not yet paid …
  assertEquals(f.again(rent), second);
  // … and once it is paid, a third payment gets a third key.
  f.paid(rent, second);
  assertEquals(new Set([first, second, f.again(rent)]).size, 3);
});

Deno.test("PaymentForm draws 16-byte base64url keys by default, each different", () => {
  const f = new PaymentForm();
  const a = f.keyFor(rent);
  const b = f.again({ ...rent, amount: "1.00" });
  assertEquals(/^[A-Za-z0-9_-]{22}$/.test(a) && /^[A-Za-z0-9_-]{22}$/.test(b), true);
  assertEquals(a === b, false);
});
