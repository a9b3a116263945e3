/**
 * Idempotent retries in-process on PGlite (docs/faults.md): a request retried with the
 * same idempotency key gets the first attempt's outcome and changes nothing more — no
 * second user, certificate or audit row — and a key cannot be borrowed for another
 * request or by someone without the signing key or the consent phrase.
 */
import { sql } from "kysely";
import { generateConsentPhrase } from "../protocol/mod.ts";
import { type OpName, opSpec, parseOpBody } from "../platform/mod.ts";
import type { ProxyClient } from "../platform/mod.ts";
import { openDb } from "./db.ts";
import { IDEMPOTENCY_RETENTION_MS, pruneIdempotencyKeys, runOperation } from "./operations/mod.ts";
import { openVaultState } from "./state.ts";
import type { VaultConfig } from "./config.ts";
import { verifyAudit } from "./audit.ts";
import { assertEquals, assertOk, codeOf } from "../tests/fixtures/assert.ts";
import * as u from "../harness/mod.ts";

const config: VaultConfig = {
  host: "127.0.0.1",
  port: 0,
  dataDir: "/nonexistent",
  poolSize: 1,
  consentTtlDays: 14,
  ksf: { memory: 1024, iterations: 1, parallelism: 1 }, // LIGHT_KSF, the harness users' setting
  consentMaxAttempts: 5,
  certValidityDays: 365,
  loginTtlMs: 120_000,
};

Deno.test({
  name: "retries with an idempotency key: one outcome, one effect (PGlite, in-process)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const handle = await openDb({});
    const vault = await openVaultState(config, crypto.getRandomValues(new Uint8Array(32)), handle);
    const call = (actor: "web" | "admin") => (op: string, body: unknown) =>
      runOperation(
        { vault, actor, clientTag: "t", now: new Date() },
        op as OpName,
        parseOpBody(opSpec(op)!, JSON.parse(JSON.stringify(body))),
      );
    const web = { call: call("web") } as ProxyClient;
    const admin = { call: call("admin") } as ProxyClient;
    const n = async (table: string, where = "true") =>
      Number(
        (await sql<{ n: number }>`select count(*)::int as n from ${sql.raw(table)} where ${
          sql.raw(where)
        }`.execute(vault.db)).rows[0].n,
      );
    try {
      const alice = await u.makeUser("alice");
      const key = u.freshIdempotencyKey();
      const body = await u.applyBody(web, alice, { idempotencyKey: key });

      await t.step("apply twice → the same answer, one application, one audit row", async () => {
        const first = await web.call("apply", body);
        const again = await web.call("apply", body); // same nonce: not `nonce_used`
        assertEquals(again, first);
        assertEquals(await n("users", "identity = 'alice'"), 1);
        assertEquals(await n("consents", "identity = 'alice'"), 1);
        assertEquals(await n("audit_log", "op = 'apply' and identity = 'alice'"), 1);
      });

      await t.step("the same key with another request → idempotency_key_reused", async () => {
        const other = await u.applyBody(web, alice, { idempotencyKey: key });
        assertEquals(await codeOf(web.call("apply", other)), "idempotency_key_reused");
        // without a key, the second application is what it always was
        const plain = await u.applyBody(web, alice);
        assertEquals(await codeOf(web.call("apply", plain)), "application_pending");
      });

      const phrase = await u.letterPhrase(admin, "alice");
      const consentKey = u.freshIdempotencyKey();
      const consentBody = { registration: alice.registration, phrase, idempotencyKey: consentKey };

      await t.step("consent twice → the same certificate, one certificate", async () => {
        const first = await web.call("consent", consentBody) as { certificate: string };
        const again = await web.call("consent", {
          ...consentBody,
          phrase: phrase.toLowerCase(), // the same phrase, spelt differently
        });
        assertEquals(again, first);
        assertEquals(await n("certificates", "identity = 'alice'"), 1);
        assertEquals(await n("audit_log", "op = 'consent' and identity = 'alice'"), 1);
        // without the key: already active, as before
        assertEquals(
          await codeOf(web.call("consent", { registration: alice.registration, phrase })),
          "already_active",
        );
      });

      await t.step("a consent key is useless without the phrase", async () => {
        const other = generateConsentPhrase();
        other.bytes.fill(0);
        assertEquals(
          await codeOf(web.call("consent", { ...consentBody, phrase: other.text })),
          "idempotency_key_reused",
        );
      });

      const next = await u.makeUser("alice", {
        registration: alice.registration,
        password: "a new pass phrase",
      });
      const reregKey = u.freshIdempotencyKey();
      const rereg = await u.reregisterBody(web, alice, next, { idempotencyKey: reregKey });

      await t.step(
        "re-register twice → one new certificate; a forged retry is refused",
        async () => {
          // The vault signs each answer for its own request nonce (docs/trust-anchors.md), so
          // the retry's outcome is the first one's, with a signature for the retry's nonce.
          const { vaultSignature: firstSig, ...first } = await web.call("reregister", rereg) as {
            vaultSignature: string;
          };
          const retry = await u.resigned(alice.keys.privateKey, "reregister", "alice", rereg);
          const { vaultSignature: retrySig, ...again } = await web.call("reregister", retry) as {
            vaultSignature: string;
          };
          assertEquals(again, first);
          assertOk(firstSig !== retrySig, "each answer is signed for its own nonce");
          assertEquals(await n("certificates", "identity = 'alice'"), 2);
          assertEquals(await n("audit_log", "op = 'reregister'"), 1);
          const mallory = await u.makeUser("alice", { registration: alice.registration });
          const forged = await u.resigned(mallory.keys.privateKey, "reregister", "alice", rereg);
          assertEquals(await codeOf(web.call("reregister", forged)), "signature_invalid");
        },
      );

      await t.step("revoke twice → the same answer, one revocation", async () => {
        const revKey = u.freshIdempotencyKey();
        // The proof of re-authentication is consumed by the first attempt; the retry
        // names the same one (a retry is the same request) and still gets the outcome.
        const reauthLoginId = await u.reauthProof(web, next);
        const first = await web.call(
          "revoke",
          await u.revokeBody(next, { idempotencyKey: revKey, reauthLoginId }),
        );
        const body = await u.revokeBody(next, { idempotencyKey: revKey, reauthLoginId });
        const again = await web.call(
          "revoke",
          await u.resigned(next.keys.privateKey, "revoke", "alice", body),
        );
        assertEquals(again, first);
        assertEquals(await n("audit_log", "op = 'revoke'"), 1);
        assertEquals(await n("certificates", "identity = 'alice' and status = 'revoked'"), 1);
        // signed by the superseded key: not the signer of the first attempt
        assertEquals(
          await codeOf(
            web.call(
              "revoke",
              await u.revokeBody(alice, { idempotencyKey: revKey, reauthLoginId }),
            ),
          ),
          "signature_invalid",
        );
      });

      await t.step("keys older than the retention are pruned, younger ones kept", async () => {
        const all = await n("idempotency_keys");
        assertOk(all >= 4, `${all} keys`);
        const later = new Date(Date.now() + IDEMPOTENCY_RETENTION_MS - 60_000);
        assertEquals(await pruneIdempotencyKeys(vault.db, later), 0);
        const muchLater = new Date(Date.now() + IDEMPOTENCY_RETENTION_MS + 60_000);
        assertEquals(await pruneIdempotencyKeys(vault.db, muchLater), all);
        assertEquals(await n("idempotency_keys"), 0);
      });

      await t.step("the audit chain verifies", async () => {
        const r = await verifyAudit(vault.db);
        assertOk(r.ok, JSON.stringify(r));
      });
    } finally {
      await handle.close();
    }
  },
});
