/**
 * The `crl` table: the current CRL (one row, id = 1).
 *
 * @module
 */
import type { Q } from "./database.ts";

/** The stored CRL, or undefined before the first one. */
export function getCrl(db: Q) {
  return db.selectFrom("crl").selectAll().where("id", "=", 1).executeTakeFirst();
}

/** Stores the current CRL (replacing the previous one). */
export async function putCrl(
  tx: Q,
  c: { number: number; pem: string; thisUpdate: Date; nextUpdate: Date },
): Promise<void> {
  const values = {
    number: String(c.number),
    pem: c.pem,
    this_update: c.thisUpdate,
    next_update: c.nextUpdate,
  };
  await tx.insertInto("crl").values({ id: 1, ...values })
    .onConflict((oc) => oc.column("id").doUpdateSet(values)).execute();
}
