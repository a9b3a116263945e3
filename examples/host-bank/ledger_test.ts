import { assertEquals, assertRejects } from "../../tests/fixtures/assert.ts";
import { type Debit, Ledger, LedgerError } from "./ledger.ts";

const _debit = (messageId: string, amount: number): Debit & { currency: string } => ({
  messageId,
  idempotencyKey: `key-${messageId}`,
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

Deno.test("Ledger.debit() pays a signer's idempotency key once: a repeat gets the original entry, also after reopening", async () => {
  await withLedger(async (path, ledger) => {
    const first = await ledger.debit({ ..._debit("m1", 2_500), idempotencyKey: "k" }, new Date());
    assertEquals([first.duplicate, first.balance, first.entry.balanceAfter], [
      false,
      97_500,
      97_500,
    ]);
    const before = await Deno.readFile(path);
    const repeat = await ledger.debit({ ..._debit("m2", 2_500), idempotencyKey: "k" }, new Date());
    assertEquals(repeat, { entry: first.entry, balance: 97_500, duplicate: true });
    const reopened = await Ledger.open(path, { currency: "GBP", openingBalance: 100_000 });
    const later = await reopened.debit({ ..._debit("m3", 2_500), idempotencyKey: "k" }, new Date());
    assertEquals(later.duplicate, true);
    assertEquals(later.entry, first.entry);
    assertEquals(await Deno.readFile(path), before);
    assertEquals(reopened.balance("alice"), 97_500);
  });
});

Deno.test("Ledger.debit() refuses an idempotency key for another payment (idempotency_key_reused)", async () => {
  await withLedger(async (path, ledger) => {
    await ledger.debit({ ..._debit("m1", 100), idempotencyKey: "k" }, new Date());
    const before = await Deno.readFile(path);
    for (
      const other of [
        { amount: 101 },
        { to: "20-00-00 00000000" },
        { reference: "other" },
      ]
    ) {
      await assertRejects(
        () => ledger.debit({ ..._debit("m2", 100), idempotencyKey: "k", ...other }, new Date()),
        LedgerError,
        "idempotency_key_reused",
      );
    }
    assertEquals(await Deno.readFile(path), before);
  });
});

Deno.test("Ledger.debit() files a key with its signer: the same key from another signer is another payment", async () => {
  await withLedger(async (_path, ledger) => {
    const a = await ledger.debit({ ..._debit("m1", 100), idempotencyKey: "k" }, new Date());
    const b = await ledger.debit(
      { ..._debit("m2", 100), idempotencyKey: "k", identity: "bob" },
      new Date(),
    );
    assertEquals([a.duplicate, b.duplicate], [false, false]);
    assertEquals([ledger.balance("alice"), ledger.balance("bob")], [99_900, 99_900]);
  });
});

Deno.test("Ledger.debit() executes many concurrent submissions of one payment (new message ids) once", async () => {
  await withLedger(async (_path, ledger) => {
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) => ledger.debit({ ..._debit(`m${i}`, 1_000), idempotencyKey: "k" }, new Date()),
      ),
    );
    assertEquals(results.filter((r) => !r.duplicate).length, 1);
    assertEquals(new Set(results.map((r) => r.entry.receiptId)).size, 1);
    assertEquals(ledger.balance("alice"), 99_000);
  });
});

Deno.test("Ledger.open() reads a ledger written before idempotency keys", async () => {
  await withLedger(async (path) => {
    const old = {
      v: 1,
      currency: "GBP",
      accounts: { alice: 500 },
      payees: {},
      messages: {},
      entries: [],
    };
    await Deno.writeTextFile(path, JSON.stringify(old));
    const ledger = await Ledger.open(path, { currency: "GBP", openingBalance: 100_000 });
    assertEquals(ledger.balance("alice"), 500);
    assertEquals((await ledger.debit(_debit("m1", 100), new Date())).balance, 400);
  });
});
