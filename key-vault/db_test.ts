/**
 * The vault's PostgreSQL connection dropping under an open transaction (docs/faults.md):
 * a connection killed while a transaction holds it and the vault is busy between two
 * statements must surface as an "unavailable" error of the next statement, not as an
 * uncaught `error` event that ends the process. node-postgres emits that event on a
 * client checked out of its pool (kysely's transactions hold one); the pool's own
 * listener only covers idle clients. Seen in the crash matrix (tests/integration/
 * crash_test.ts, "reregister: postgres killed anytime"): the vault died and the proxy
 * answered `vault_unavailable` until the end of the run. Needs PostgreSQL
 * (TEST_DATABASE_URL); skipped without it.
 */
import { sql } from "kysely";
import { assertEquals, assertOk } from "../tests/fixtures/assert.ts";
import { openTestDb } from "../tests/fixtures/db.ts";
import { sqlAsAdmin } from "../harness/mod.ts";
import { isUnavailable } from "./db.ts";

Deno.test({
  name: "a connection killed inside an open transaction fails its next statement, not the process",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const db = await openTestDb("postgres");
    if (!db) {
      t.step({ name: "skipped: no PostgreSQL (TEST_DATABASE_URL)", ignore: true, fn: () => {} });
      return;
    }
    const uncaught: unknown[] = [];
    const onError = (e: ErrorEvent) => {
      e.preventDefault();
      uncaught.push(e.error);
    };
    globalThis.addEventListener("error", onError);
    try {
      let failure: unknown;
      try {
        await db.db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          // the vault works between two statements (hashing, checking a signature) while
          // the server goes away
          await sqlAsAdmin(db.url!, `select pg_terminate_backend($1)`, [rows[0].pid]);
          await new Promise((r) => setTimeout(r, 200));
          await sql`select 1`.execute(trx);
        });
      } catch (err) {
        failure = err;
      }
      assertEquals(uncaught.length, 0, `uncaught: ${uncaught.map(String).join("; ")}`);
      assertOk(isUnavailable(failure), `the next statement fails as unavailable: ${failure}`);
      // and the pool goes on with a new connection
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db.db);
      assertEquals(rows[0].one, 1);
    } finally {
      globalThis.removeEventListener("error", onError);
      await db.dispose();
    }
  },
});
