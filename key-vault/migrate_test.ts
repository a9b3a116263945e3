import type { Kysely } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import { assertEquals } from "../tests/fixtures/assert.ts";
import type { Database } from "./db.ts";
import { openDb } from "./db.ts";
import { migrateToLatest, pendingMigrations } from "./migrate.ts";
import * as initial from "./migrations/20261124_0001_initial.ts";
import * as crl from "./migrations/20261201_0002_crl.ts";
import * as idempotency from "./migrations/20261205_0003_idempotency.ts";
import * as reauth from "./migrations/20261224_0004_reauth.ts";
import * as keyedTags from "./migrations/20261230_0005_keyed_tags.ts";
import * as storedKsf from "./migrations/20261231_0006_stored_ksf.ts";
import * as pendingRecord from "./migrations/20270102_0007_pending_record.ts";

/** What a vault released before passkeys ran: migrations 0001–0007. */
const _BEFORE_PASSKEYS: Record<string, Migration> = {
  "20261124_0001_initial": initial,
  "20261201_0002_crl": crl,
  "20261205_0003_idempotency": idempotency,
  "20261224_0004_reauth": reauth,
  "20261230_0005_keyed_tags": keyedTags,
  "20261231_0006_stored_ksf": storedKsf,
  "20270102_0007_pending_record": pendingRecord,
};

async function _columns(db: Kysely<Database>, table: string): Promise<string[]> {
  const tables = await db.introspection.getTables();
  return (tables.find((t) => t.name === table)?.columns ?? []).map((c) => c.name).sort();
}

Deno.test("migrations on a fresh database: 0007 (pending record) runs before 0008 (passkeys)", async () => {
  const h = await openDb({});
  try {
    const applied = await migrateToLatest(h.db);
    assertEquals(applied.length, 8);
    assertEquals(applied.slice(-2), ["20270102_0007_pending_record", "20270105_0008_passkeys"]);
    assertEquals(await pendingMigrations(h.db), []);
    const keyRecords = await _columns(h.db, "key_records");
    assertEquals(keyRecords.includes("pending_record"), true);
    assertEquals((await _columns(h.db, "passkeys")).includes("slot"), true);
  } finally {
    await h.close();
  }
});

Deno.test("migrations on a database that ran 0001–0007: only 0008 (passkeys) runs", async () => {
  const h = await openDb({});
  try {
    const before = new Migrator({
      db: h.db,
      provider: { getMigrations: () => Promise.resolve(_BEFORE_PASSKEYS) },
    });
    const first = await before.migrateToLatest();
    assertEquals(first.error, undefined);
    assertEquals(await pendingMigrations(h.db), ["20270105_0008_passkeys"]);
    assertEquals(await migrateToLatest(h.db), ["20270105_0008_passkeys"]);
    assertEquals((await _columns(h.db, "passkey_challenges")).includes("binding"), true);
    assertEquals(await migrateToLatest(h.db), []);
  } finally {
    await h.close();
  }
});
