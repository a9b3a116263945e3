/**
 * The applet's own retries end to end (docs/faults.md): apply, consent, re-registration
 * and revocation through the real web server, proxy and vault on PostgreSQL, run by
 * the applet's protocol code (applet/client/flows/) from Deno. For each, the
 * vault's connection to PostgreSQL is cut right after PostgreSQL committed and before
 * the vault heard so: the vault answers 503 `database_unavailable` although the
 * operation took effect. The flow retries with the same idempotency key and gets the
 * first attempt's outcome: one application, one certificate, one audit row each —
 * also for re-registration and revocation, whose first attempt consumed the proof of
 * re-authentication (docs/lifecycle.md) that the retry names again.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { assertConsistent } from "../fixtures/consistency.ts";
import {
  createTestDatabase,
  postgresAvailable,
  sqlAsAdmin,
  startStack,
  TEST_DATABASE_URL,
} from "../../harness/mod.ts";
import { startTcpRelay } from "../fixtures/tcp_relay.ts";
import { LIGHT_KSF } from "../../harness/mod.ts";
import { consentPhraseFor, newUser } from "../e2e/_applet.ts";
import { applyFromDeno, consentFromDeno, ready, signedIn } from "../e2e/_deno_client.ts";
import { forget, reregister, revokeKey } from "../../applet/mod.ts";
import { utf8 } from "../../protocol/mod.ts";

Deno.test({
  name: "the applet's retries after a lost commit acknowledgement are idempotent (PostgreSQL)",
  ignore: !(await postgresAvailable()),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ready();
    const testDb = await createTestDatabase();
    const target = new URL(TEST_DATABASE_URL);
    const relay = startTcpRelay({ hostname: target.hostname, port: Number(target.port || 5432) });
    const viaRelay = new URL(testDb.url);
    viaRelay.hostname = "127.0.0.1";
    viaRelay.port = String(relay.port);
    const stack = await startStack({ databaseUrl: viaRelay.toString(), web: true });
    const webUrl = stack.webUrl!;
    const r = newUser("retry");
    const pass = `pass phrase of ${r.identity}`;
    const audit = async (op: string) =>
      Number(
        (await sqlAsAdmin(
          testDb.url,
          "select count(*)::int as n from audit_log where identity = $1 and op = $2",
          [r.identity, op],
        )).rows[0].n,
      );
    /**
     * Vault log lines of idempotent replays, once `op`'s has arrived (the vault's log is
     * written in batches: a line may come a moment after the answer).
     */
    const replays = async (op: string) => {
      await stack.vault.waitForLine((l) => l.event === "idempotent_replay" && l.op === op, 30_000);
      return stack.vault.lines.filter((l) => l.includes('"idempotent_replay"')).length;
    };
    /** Cuts the vault's connections once PostgreSQL committed the operation's transaction. */
    const loseNextCommitAck = () => {
      const hold = relay.holdAfter(/update "idempotency_keys"/, /commit/i);
      return hold.arrived.then(() => relay.cut());
    };
    try {
      await t.step("apply", async () => {
        const cut = loseNextCommitAck();
        const res = await applyFromDeno(webUrl, r, pass, LIGHT_KSF);
        await cut;
        assertEquals(res.status, "pending");
        assertEquals(await replays("apply"), 1);
        assertEquals(await audit("apply"), 1);
        assertEquals((await assertConsistent(testDb.url, r.identity)).status, "pending");
      });

      await t.step("consent", async () => {
        const phrase = await consentPhraseFor(stack, r.identity);
        const cut = loseNextCommitAck();
        const res = await consentFromDeno(webUrl, r, phrase);
        await cut;
        assertEquals(res.status, "active");
        assertEquals(await replays("consent"), 2);
        assertEquals(await audit("consent"), 1);
        const s = await assertConsistent(testDb.url, r.identity);
        assertEquals(s.certificates, { active: 1, superseded: 0, revoked: 0 });
      });

      const { session, user } = await signedIn(webUrl, r.identity, pass, LIGHT_KSF);
      try {
        await t.step("re-register", async () => {
          const cut = loseNextCommitAck();
          const res = await reregister(session, user, {
            passphrase: utf8(`${pass} again`),
            currentPassphrase: utf8(pass),
            bits: 2048,
            ksfFloor: LIGHT_KSF,
          });
          await cut;
          assertOk(res.serial && res.superseded && res.serial !== res.superseded);
          assertEquals(await replays("reregister"), 3);
          assertEquals(await audit("reregister"), 1);
          const s = await assertConsistent(testDb.url, r.identity);
          assertEquals(s.certificates, { active: 1, superseded: 1, revoked: 0 });
        });

        await t.step("revoke", async () => {
          const cut = loseNextCommitAck();
          // The retry names the proof of re-authentication the first attempt consumed.
          const res = await revokeKey(session, user, utf8(`${pass} again`), undefined, LIGHT_KSF);
          await cut;
          assertEquals(res.status, "revoked");
          assertEquals(await replays("revoke"), 4);
          assertEquals(await audit("revoke"), 1);
          const s = await assertConsistent(testDb.url, r.identity);
          assertEquals(s.status, "revoked");
          assertEquals(s.certificates, { active: 0, superseded: 1, revoked: 1 });
        });
      } finally {
        forget(user);
        await session.close();
      }

      await t.step("the audit chain verifies", async () => {
        const report = await stack.adminClient().call("admin.audit.verify", {}) as { ok: boolean };
        assertOk(report.ok, JSON.stringify(report));
      });
    } finally {
      await stack.stop();
      await relay.close();
      await testDb.drop();
    }
  },
});
