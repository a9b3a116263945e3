/**
 * The bank's small ledger (docs/host-bank.md): one account per roamsign identity
 * (opened with a demo balance on its first instruction), the payees credited, every
 * entry, every message id ever executed and every payment by its signer and
 * idempotency key (so that a repeat is answered with the original entry, never paid
 * twice). Kept in one JSON file
 * (`<dataDir>/host-bank/ledger.json`, 0600), rewritten atomically (temporary file,
 * fsync, rename) before a receipt is given, so an executed instruction is never
 * lost and a message id is never executed twice, also across restarts.
 *
 * One process owns the file; operations on it are serialised in that process.
 *
 * @module
 */

/** One executed debit. */
export interface LedgerEntry {
  receiptId: string;
  messageId: string;
  /** The instruction's idempotency key (absent in entries written before it existed). */
  idempotencyKey?: string;
  identity: string;
  to: string;
  /** Minor units (pence). */
  amount: number;
  reference: string;
  serial: string;
  messageSha256: string;
  at: string;
  /** The account's balance after this debit, minor units (absent in older entries). */
  balanceAfter?: number;
}

/** The file's content. */
export interface LedgerState {
  v: 1;
  currency: string;
  /** Balance in minor units, by identity. */
  accounts: Record<string, number>;
  /** Credits in minor units, by payee account. */
  payees: Record<string, number>;
  /** Message ids executed, with their receipt id. */
  messages: Record<string, string>;
  /** Payments by {@link paymentKey} (signer and idempotency key): index into `entries`. */
  payments: Record<string, number>;
  entries: LedgerEntry[];
}

/** Where a payment is filed: its signer and idempotency key (an identity has no `/`). */
export function paymentKey(identity: string, idempotencyKey: string): string {
  return `${identity}/${idempotencyKey}`;
}

/** A refused debit; `code` is stable (docs/errors.md). */
export class LedgerError extends Error {
  readonly code:
    | "duplicate_message"
    | "idempotency_key_reused"
    | "insufficient_funds"
    | "wrong_currency";
  constructor(code: LedgerError["code"], message: string) {
    super(message);
    this.name = "LedgerError";
    this.code = code;
  }
}

/** What a debit asks for. */
export type Debit = Omit<LedgerEntry, "receiptId" | "at" | "balanceAfter"> & {
  idempotencyKey: string;
};

/** What {@link Ledger.debit} answers: the entry, the balance after it, and whether it is old. */
export interface DebitOutcome {
  entry: LedgerEntry;
  balance: number;
  /** True when the payment was executed before: `entry` is that one, nothing was paid now. */
  duplicate: boolean;
}

/** The ledger file and its lock. */
export class Ledger {
  readonly path: string;
  readonly openingBalance: number;
  #state: LedgerState;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, state: LedgerState, openingBalance: number) {
    this.path = path;
    this.#state = state;
    this.openingBalance = openingBalance;
  }

  /** Opens (or creates) the ledger at `path`. */
  static async open(
    path: string,
    options: { currency: string; openingBalance: number },
  ): Promise<Ledger> {
    let state: LedgerState;
    try {
      state = JSON.parse(await Deno.readTextFile(path));
      if (state.v !== 1 || typeof state.messages !== "object") {
        throw new Error(`ledger: ${path} is not a ledger v1`);
      }
      state.payments ??= {}; // a ledger written before idempotency keys
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      state = {
        v: 1,
        currency: options.currency,
        accounts: {},
        payees: {},
        messages: {},
        payments: {},
        entries: [],
      };
      await _writeAtomically(path, state);
    }
    return new Ledger(path, state, options.openingBalance);
  }

  /** The currency every account is kept in. */
  get currency(): string {
    return this.#state.currency;
  }

  /** An account's balance in minor units (the opening balance if it has none yet). */
  balance(identity: string): number {
    return Object.hasOwn(this.#state.accounts, identity)
      ? this.#state.accounts[identity]
      : this.openingBalance;
  }

  /** True when a message id was executed before. */
  seen(messageId: string): boolean {
    return Object.hasOwn(this.#state.messages, messageId);
  }

  /**
   * Executes a payment once. Refuses a message id seen before (`duplicate_message`: a
   * replay of the same signed bytes). A payment whose signer and idempotency key are
   * known is not executed again: the same payee, amount and reference get the original
   * entry back (`duplicate: true`, the file untouched), anything else
   * `idempotency_key_reused`. Then refuses another currency or more than the balance;
   * otherwise writes the new state to disk and only then answers.
   */
  debit(d: Debit & { currency: string }, now: Date): Promise<DebitOutcome> {
    const run = this.#queue.then(async () => {
      const s = this.#state;
      if (Object.hasOwn(s.messages, d.messageId)) {
        throw new LedgerError("duplicate_message", "this message was executed before");
      }
      const filed = paymentKey(d.identity, d.idempotencyKey);
      if (Object.hasOwn(s.payments, filed)) return _repeat(s, s.entries[s.payments[filed]], d);
      if (d.currency !== s.currency) {
        throw new LedgerError("wrong_currency", `the bank keeps accounts in ${s.currency}`);
      }
      const before = this.balance(d.identity);
      if (d.amount > before) {
        throw new LedgerError("insufficient_funds", "the balance does not cover this amount");
      }
      const entry: LedgerEntry = {
        receiptId: crypto.randomUUID(),
        messageId: d.messageId,
        idempotencyKey: d.idempotencyKey,
        identity: d.identity,
        to: d.to,
        amount: d.amount,
        reference: d.reference,
        serial: d.serial,
        messageSha256: d.messageSha256,
        at: now.toISOString(),
        balanceAfter: before - d.amount,
      };
      const next: LedgerState = {
        ...s,
        accounts: { ...s.accounts, [d.identity]: before - d.amount },
        payees: { ...s.payees, [d.to]: (s.payees[d.to] ?? 0) + d.amount },
        messages: { ...s.messages, [d.messageId]: entry.receiptId },
        payments: { ...s.payments, [filed]: s.entries.length },
        entries: [...s.entries, entry],
      };
      await _writeAtomically(this.path, next);
      this.#state = next;
      return { entry, balance: before - d.amount, duplicate: false };
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** The answer to a payment filed before: its entry if it is the same payment. */
function _repeat(
  s: LedgerState,
  entry: LedgerEntry,
  d: Debit & { currency: string },
): DebitOutcome {
  const same = entry.to === d.to && entry.amount === d.amount &&
    entry.reference === d.reference && d.currency === s.currency;
  if (!same || entry.balanceAfter === undefined) {
    throw new LedgerError(
      "idempotency_key_reused",
      "this idempotency key was used for a different payment",
    );
  }
  return { entry, balance: entry.balanceAfter, duplicate: true };
}

async function _writeAtomically(path: string, state: LedgerState): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  const f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
  try {
    const bytes = new TextEncoder().encode(JSON.stringify(state, null, 1));
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.sync();
  } finally {
    f.close();
  }
  await Deno.rename(tmp, path);
}
