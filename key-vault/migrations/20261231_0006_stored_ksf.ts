/**
 * The vault's stretching parameters per user (issue 15; DESIGN.md §3: "the vault, not
 * the client, sets the stretching parameters"): `key_records.ksf_params`, canonical JSON
 * of the argon2id `{ memory, iterations, parallelism }` that `login.start` hands to the
 * client. It is set when a record is stored at consent and at re-registration, and a
 * `registration.update` must carry a record with exactly these parameters
 * (`ksf_mismatch`), so a signed-in applet cannot change them.
 *
 * Existing users: filled from their current record's `kdf.params`, which is what
 * `login.start` handed out until now. `down` drops the column.
 *
 * @module
 */
import type { Kysely } from "kysely";
import { canonicalJson } from "../../protocol/mod.ts";

// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("key_records").addColumn("ksf_params", "text").execute();
  const rows = await db.selectFrom("key_records").select(["identity", "record"]).execute();
  for (const row of rows as { identity: string; record: string }[]) {
    const params = (JSON.parse(row.record) as { kdf: { params: unknown } }).kdf.params;
    await db.updateTable("key_records").set({ ksf_params: canonicalJson(params) })
      .where("identity", "=", row.identity).execute();
  }
  await db.schema.alterTable("key_records")
    .alterColumn("ksf_params", (c) => c.setNotNull()).execute();
}

// deno-lint-ignore no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("key_records").dropColumn("ksf_params").execute();
}
