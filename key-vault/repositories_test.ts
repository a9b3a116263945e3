import { sql } from "kysely";
import { BACKENDS, openTestDb } from "../tests/fixtures/db.ts";
import { migrateToLatest } from "./migrate.ts";
import * as storedKsf from "./migrations/20261231_0006_stored_ksf.ts";
import * as repo from "./repositories/mod.ts";
import { appendAudit, sealAudit, verifyAudit } from "./audit.ts";
import { assert } from "../tests/fixtures/assert.ts";

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (pattern.test(String((e as Error).message))) return;
    throw e;
  }
  throw new Error(`expected rejection matching ${pattern}`);
}

const reg = (identity: string) => ({
  identity,
  fullName: "Grace Hopper",
  accountNumber: "12-34-56 12345678",
  address: "1 Navy Yard",
});

for (const kind of BACKENDS) {
  Deno.test(`repositories on ${kind}`, async (t) => {
    const tdb = await openTestDb(kind);
    if (!tdb) return; // postgresAvailable() printed why
    const db = tdb.db;
    const now = new Date();
    try {
      await t.step("migrations are idempotent", async () => {
        assert((await migrateToLatest(db)).length === 0);
      });

      await t.step("insertPendingUser() inserts once per identity", async () => {
        assert(await repo.insertPendingUser(db, reg("grace"), now));
        assert(!(await repo.insertPendingUser(db, reg("grace"), now)));
        const u = await repo.findUser(db, "grace");
        assert(u?.status === "pending" && u.full_name === "Grace Hopper");
      });

      await t.step(
        "concurrent insertPendingUser() for one identity: exactly one wins",
        async () => {
          const results = await Promise.all(
            Array.from(
              { length: 8 },
              () => db.transaction().execute((tx) => repo.insertPendingUser(tx, reg("racer"), now)),
            ),
          );
          assert(results.filter(Boolean).length === 1, String(results));
        },
      );

      await t.step("consumeNonce() is single use per scope", async () => {
        assert(await repo.consumeNonce(db, "user", "n-1", null));
        assert(!(await repo.consumeNonce(db, "user", "n-1", null)));
        assert(await repo.consumeNonce(db, "rpc", "n-1", new Date(now.getTime() + 60_000)));
      });

      await t.step("at most one active certificate per identity", async () => {
        await repo.setUserStatus(db, "grace", "active", now);
        const cert = (serial: string) => ({
          serial,
          identity: "grace",
          kind: "user" as const,
          subject: "CN=grace",
          spki_sha256: "x",
          pem: "pem",
          status: "active" as const,
          not_before: now,
          not_after: now,
          issued_at: now,
          status_changed_at: null,
          revocation_reason: null,
        });
        await repo.insertCertificate(db, cert("01"));
        await rejects(repo.insertCertificate(db, cert("02")), /unique|duplicate/i);
        await repo.retireCertificate(db, "01", "superseded", "test", now);
        await repo.insertCertificate(db, cert("02"));
        const history = await repo.certificateHistory(db, "grace");
        assert(history.map((c) => c.status).join() === "superseded,active");
        assert((await repo.activeCertificate(db, "grace"))?.serial === "02");
      });

      await t.step("eraseRecords() really deletes key and OPAQUE records", async () => {
        await repo.putKeyRecord(db, "grace", "{}", "x", "{}", now);
        await repo.putOpaqueRecord(db, "grace", "rec", now);
        await repo.eraseRecords(db, "grace");
        assert((await repo.getKeyRecord(db, "grace")) === undefined);
        assert((await repo.getOpaqueRecord(db, "grace")) === undefined);
        const n = await sql<{ n: string }>`select count(*) as n from key_records`.execute(db);
        assert(Number(n.rows[0].n) === 0);
      });

      await t.step(
        "migration stored_ksf fills ksf_params from each existing record's kdf.params",
        async () => {
          await storedKsf.down(db);
          const params = { parallelism: 4, memory: 65536, iterations: 3 };
          const record = JSON.stringify({ v: 1, kdf: { name: "x", ksf: "argon2id", params } });
          await sql`insert into key_records (identity, record, spki_sha256, updated_at)
                    values ('grace', ${record}, 'x', ${now})`.execute(db);
          await storedKsf.up(db);
          assert(
            (await repo.getKsfParams(db, "grace")) ===
              '{"iterations":3,"memory":65536,"parallelism":4}',
          );
          await repo.eraseRecords(db, "grace");
        },
      );

      await t.step("takeLoginAttempt() returns an attempt once", async () => {
        await repo.putLoginAttempt(db, {
          id: "L1",
          identity: "grace",
          state: "s",
          clientTag: "",
          expiresAt: new Date(now.getTime() + 1000),
        });
        assert((await repo.takeLoginAttempt(db, "L1"))?.identity === "grace");
        assert((await repo.takeLoginAttempt(db, "L1")) === undefined);
      });

      await t.step("a failing transaction leaves nothing behind", async () => {
        await rejects(
          db.transaction().execute(async (tx) => {
            await repo.insertPendingUser(tx, reg("halfway"), now);
            await appendAudit(tx, {
              actor: "web",
              op: "apply",
              identity: "halfway",
              outcome: "pending",
            });
            throw new Error("boom in the middle");
          }),
          /boom/,
        );
        assert((await repo.findUser(db, "halfway")) === undefined);
        const rows = await db.selectFrom("audit_log").selectAll().where("identity", "=", "halfway")
          .execute();
        assert(rows.length === 0);
      });

      await t.step("audit_log refuses UPDATE of a sealed row, DELETE and TRUNCATE", async () => {
        await appendAudit(db, { actor: "admin", op: "test", outcome: "ok", details: { n: 1 } });
        await sealAudit(db);
        await rejects(sql`update audit_log set outcome = 'forged'`.execute(db), /append-only/);
        await rejects(sql`delete from audit_log`.execute(db), /append-only/);
        await rejects(sql`truncate audit_log`.execute(db), /append-only/);
        assert((await verifyAudit(db)).ok);
      });
    } finally {
      await tdb.dispose();
    }
  });
}
