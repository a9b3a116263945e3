import { assertEquals, assertRejects } from "../../tests/fixtures/assert.ts";
import { type Debit, Ledger, LedgerError } from "./ledger.ts";

const _debit = (messageId: string, amount: number): Debit & { currency: string } => ({
  messageId,
  identity: "alice",
  to: "20-00-00 12345678",
  amount,
  reference: "rent",
  serial: "01",
  messageSha256: "00".repeat(32),
  currency: "GBP",
});

async function withLedger(fn: (path: string, ledger: Ledger) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "roamsign-ledger-" });
  try {
    const path = `${dir}/ledger.json`;
    await fn(path, await Ledger.open(path, { currency: "GBP", openingBalance: 100_000 }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Ledger.debit() opens the account, debits it and keeps the file 0600", async () => {
  await withLedger(async (path, ledger) => {
    const { balance, entry } = await ledger.debit(_debit("m1", 12_500), new Date());
    assertEquals(balance, 87_500);
    assertEquals(ledger.balance("alice"), 87_500);
    assertEquals(((await Deno.stat(path)).mode ?? 0) & 0o777, 0o600);
    const state = JSON.parse(await Deno.readTextFile(path));
    assertEquals(state.accounts.alice, 87_500);
    assertEquals(state.payees["20-00-00 12345678"], 12_500);
    assertEquals(state.messages.m1, entry.receiptId);
  });
});

Deno.test("Ledger.debit() refuses a message id twice, also after reopening; the file is unchanged", async () => {
  await withLedger(async (path, ledger) => {
    await ledger.debit(_debit("m1", 100), new Date());
    const before = await Deno.readFile(path);
    await assertRejects(
      () => ledger.debit(_debit("m1", 100), new Date()),
      LedgerError,
      "duplicate_message",
    );
    const reopened = await Ledger.open(path, { currency: "GBP", openingBalance: 100_000 });
    await assertRejects(
      () => reopened.debit(_debit("m1", 1), new Date()),
      LedgerError,
      "duplicate_message",
    );
    assertEquals(await Deno.readFile(path), before);
    assertEquals(reopened.balance("alice"), 99_900);
  });
});

Deno.test("Ledger.debit() refuses more than the balance and another currency", async () => {
  await withLedger(async (path, ledger) => {
    const before = await Deno.readFile(path);
    await assertRejects(
      () => ledger.debit(_debit("m1", 100_001), new Date()),
      LedgerError,
      "insufficient_funds",
    );
    await assertRejects(
      () => ledger.debit({ ..._debit("m2", 1), currency: "EUR" }, new Date()),
      LedgerError,
      "wrong_currency",
    );
    assertEquals(await Deno.readFile(path), before);
  });
});

Deno.test("Ledger.debit() executes each of many concurrent copies of one message once", async () => {
  await withLedger(async (_path, ledger) => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => ledger.debit(_debit("same", 1_000), new Date())),
    );
    assertEquals(results.filter((r) => r.status === "fulfilled").length, 1);
    assertEquals(ledger.balance("alice"), 99_000);
  });
});
