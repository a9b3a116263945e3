import { sql } from "kysely";
import { BACKENDS, openTestDb } from "../tests/fixtures/db.ts";
import { appendAudit, sealAudit, verifyAudit } from "./audit.ts";
import { assert } from "../tests/fixtures/assert.ts";

for (const kind of BACKENDS) {
  Deno.test(`audit chain on ${kind}`, async (t) => {
    const tdb = await openTestDb(kind);
    if (!tdb) return;
    const db = tdb.db;
    try {
      await t.step("concurrent appends are sealed into one gap-free chain", async () => {
        await Promise.all(
          Array.from(
            { length: 40 },
            (_, i) =>
              db.transaction().execute((tx) =>
                appendAudit(tx, {
                  actor: "web",
                  op: "apply",
                  identity: `u${i}`,
                  outcome: "pending",
                  details: { i },
                })
              ),
          ),
        );
        const [a, b] = await Promise.all([sealAudit(db), sealAudit(db)]);
        assert(a + b === 40, `${a} + ${b}`);
        const report = await verifyAudit(db);
        assert(report.ok && report.rows === 40 && report.headSeq === 40, JSON.stringify(report));
      });

      await t.step("verifyAudit() detects a row edited directly in the database", async () => {
        await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db);
        await sql`update audit_log set outcome = 'active' where seq = 7`.execute(db);
        await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db);
        const report = await verifyAudit(db);
        assert(!report.ok, "tampering not detected");
        assert(
          report.problems.some((p) => p.seq === 7 && /content/.test(p.problem)),
          JSON.stringify(report.problems),
        );
      });

      await t.step(
        "verifyAudit() detects a re-hashed row by the next row's link, and a deleted row",
        async () => {
          await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db);
          await sql`update audit_log set outcome = 'pending' where seq = 7`.execute(db); // undo
          await sql`update audit_log set hash = repeat('a', 64) where seq = 20`.execute(db);
          await sql`delete from audit_log where seq = 30`.execute(db);
          await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db);
          const report = await verifyAudit(db);
          const seqs = report.problems.map((p) => p.seq);
          assert(
            seqs.includes(20) && seqs.includes(21) && seqs.includes(31),
            JSON.stringify(report.problems),
          );
        },
      );
    } finally {
      await tdb.dispose();
    }
  });
}
