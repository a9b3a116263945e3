/**
 * The `consents` table: a pending application's wrapped record, its attempts and letter.
 *
 * @module
 */
import { type RawBuilder, sql, type Transaction } from "kysely";
import type { Consent, Database } from "../db.ts";
import type { Q } from "./database.ts";

/** The pending consent of an identity, or undefined. */
export function findConsent(db: Q, identity: string): Promise<Consent | undefined> {
  return db.selectFrom("consents").selectAll().where("identity", "=", identity)
    .executeTakeFirst();
}

/** Stores a consent (replacing an expired one). */
export async function putConsent(tx: Q, c: Consent): Promise<void> {
  await tx.deleteFrom("consents").where("identity", "=", c.identity).execute();
  await tx.insertInto("consents").values(c).execute();
}

/** Counts one wrong phrase; returns the new attempt count. */
export async function countConsentAttempt(tx: Q, identity: string): Promise<number> {
  const row = await tx.updateTable("consents").set((eb) => ({ attempts: eb("attempts", "+", 1) }))
    .where("identity", "=", identity).returning("attempts").executeTakeFirstOrThrow();
  return row.attempts;
}

/** Deletes a consent (activated, or application revoked). */
export async function deleteConsent(tx: Q, identity: string): Promise<void> {
  await tx.deleteFrom("consents").where("identity", "=", identity).execute();
}

/** Pending applications joined with their users. */
export function listPending(db: Q) {
  return db.selectFrom("consents").innerJoin("users", "users.identity", "consents.identity")
    .select([
      "users.identity",
      "users.full_name",
      "users.created_at",
      "consents.expires_at",
      "consents.attempts",
      "consents.letter_status",
    ])
    .where("users.status", "=", "pending").orderBy("users.created_at").execute();
}

/** Queued letters with what goes on the envelope (the phrase is still sealed). */
export function listQueuedLetters(db: Q) {
  return db.selectFrom("consents").innerJoin("users", "users.identity", "consents.identity")
    .select([
      "users.identity",
      "users.full_name",
      "users.address",
      "consents.letter_sealed",
      "consents.created_at",
      "consents.expires_at",
    ])
    .where("consents.letter_status", "=", "queued").where("users.status", "=", "pending")
    .orderBy("consents.created_at").execute();
}

/** Marks a queued letter sent and erases its sealed phrase; false when none was queued. */
export async function markLetterSent(tx: Q, identity: string, now: Date): Promise<boolean> {
  const rows = await tx.updateTable("consents")
    .set({ letter_status: "sent", letter_sent_at: now, letter_sealed: null })
    .where("identity", "=", identity).where("letter_status", "=", "queued")
    .returning("identity").execute();
  return rows.length > 0;
}

/** Clears the wrong-phrase count and sets a new expiry (the operator's reset). */
export async function resetConsentAttempts(
  tx: Q,
  identity: string,
  expiresAt: Date,
): Promise<void> {
  await tx.updateTable("consents").set({ attempts: 0, expires_at: expiresAt })
    .where("identity", "=", identity).execute();
}

/** Every letter still sealed, row-locked until the transaction ends (master-key rotation). */
export function lockSealedLetters(tx: Transaction<Database>) {
  return tx.selectFrom("consents").select(["identity", "letter_sealed"])
    .where("letter_sealed", "is not", null).forUpdate().execute();
}

/** Replaces a letter's sealed phrase (re-wrapped under a new master key). */
export async function setLetterSealed(tx: Q, identity: string, sealed: string): Promise<void> {
  await tx.updateTable("consents").set({ letter_sealed: sealed })
    .where("identity", "=", identity).execute();
}

/** Reads one count (or number) column `n` of a one-row statement; 0 when no row. */
async function _number(db: Q, q: RawBuilder<{ n: string | number }>): Promise<number> {
  return Number((await q.execute(db)).rows[0]?.n ?? 0);
}

/** Pending applicants whose consent phrase has not expired (the metrics gauge). */
export function countConsentBacklog(db: Q): Promise<number> {
  return _number(
    db,
    sql<{ n: string | number }>`select count(*) as n from consents c
        join users u on u.identity = c.identity
        where u.status = 'pending' and c.expires_at > now()`,
  );
}

/** Pending applicants whose consent phrase has expired. */
export function countConsentExpired(db: Q): Promise<number> {
  return _number(
    db,
    sql<{ n: string | number }>`select count(*) as n from consents c
        join users u on u.identity = c.identity
        where u.status = 'pending' and c.expires_at <= now()`,
  );
}

/** Letters waiting to be posted. */
export function countQueuedLetters(db: Q): Promise<number> {
  return _number(
    db,
    sql<{ n: string | number }>`select count(*) as n from consents
        where letter_status = 'queued'`,
  );
}

/** Age in seconds of the oldest letter not yet posted (0 when none). */
export function oldestQueuedLetterSeconds(db: Q): Promise<number> {
  return _number(
    db,
    sql<{ n: string | number }>`select coalesce(extract(epoch from now() - min(created_at)), 0) as n
        from consents where letter_status = 'queued'`,
  );
}
