/**
 * The `known_addresses` table: (identity, address tag) pairs that signed in
 * successfully, for the guard's per-identity window (key-vault/guard.ts).
 *
 * @module
 */
import { sql } from "kysely";
import type { Q } from "./database.ts";

/** Whether the address succeeded for the identity after `since`. */
export async function isKnownAddress(
  db: Q,
  identity: string,
  addressTag: string,
  since: Date,
): Promise<boolean> {
  const known = await db.selectFrom("known_addresses").select("identity")
    .where("identity", "=", identity).where("address_tag", "=", addressTag)
    .where("last_success_at", ">", since)
    .executeTakeFirst();
  return known !== undefined;
}

/**
 * One round trip: deletes the backoff keys and marks the address known for the
 * identity at `now` (the row is rewritten only if older than `rewriteBefore`).
 */
export async function clearBackoffAndMarkKnown(
  tx: Q,
  m: { keys: string[]; identity: string; addressTag: string; now: Date; rewriteBefore: Date },
): Promise<void> {
  const { keys, identity, addressTag, now, rewriteBefore } = m;
  await sql`
    with cleared as (delete from rate_limits where key = any(${keys}::text[]))
    insert into known_addresses as k (identity, address_tag, last_success_at)
    values (${identity}, ${addressTag}, ${now})
    on conflict (identity, address_tag) do update set last_success_at = ${now}
    where k.last_success_at < ${rewriteBefore}`.execute(tx);
}

/** Deletes pairs whose last success was before `before`; returns how many. */
export async function deleteKnownAddressesBefore(db: Q, before: Date): Promise<number> {
  const r = await db.deleteFrom("known_addresses").where("last_success_at", "<", before)
    .execute();
  return r.reduce((s, x) => s + Number(x.numDeletedRows), 0);
}
