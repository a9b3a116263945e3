/**
 * Operations in-process on PGlite (no HTTP): the same user flows as the integration
 * tests, and what PGlite can only show from inside — a failure half-way through an
 * operation rolls all of it back.
 */
import { sql } from "kysely";
import { ApiError } from "../platform/mod.ts";
import * as opaque from "@serenity-kit/opaque";
import {
  type KeyRecordV1,
  type KeyRecordV1 as KeyRecord,
  type OpName,
  opSpec,
  parseOpBody,
} from "../platform/mod.ts";
import type { ProxyClient } from "../platform/mod.ts";
import { openDb } from "./db.ts";
import { runOperation } from "./operations/mod.ts";
import { openVaultState } from "./state.ts";
import type { VaultConfig } from "./config.ts";
import { verifyAudit } from "./audit.ts";
import * as u from "../harness/mod.ts";
import { assert } from "../tests/fixtures/assert.ts";

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    if (e instanceof Error) return `error: ${e.message}`;
    throw e;
  }
}

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
  name: "operations in-process on PGlite",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const master = crypto.getRandomValues(new Uint8Array(32));
    const handle = await openDb({});
    const vault = await openVaultState(config, master.slice(), handle);
    const shared = { ...handle, close: () => Promise.resolve() };
    const client = (actor: "web" | "admin", state = vault): ProxyClient => ({
      call(op: string, body: unknown, opts?: { clientAddress?: string }) {
        const spec = opSpec(op)!;
        assert(spec.callers.includes(actor), `${actor} may not call ${op}`);
        return runOperation(
          { vault: state, actor, clientTag: opts?.clientAddress ?? "", now: new Date() },
          op as OpName,
          parseOpBody(spec, JSON.parse(JSON.stringify(body))),
        );
      },
    } as ProxyClient);
    const web = client("web");
    const admin = client("admin");
    try {
      const alice = await u.makeUser("alice");
      await u.apply(web, alice);

      await t.step(
        "the sealed secrets survive a restart with the same master key only",
        async () => {
          const again = await openVaultState(config, master.slice(), shared);
          assert(again.ca.pem === vault.ca.pem && again.opaqueSetup === vault.opaqueSetup);
          const ca = (await web.call("ca.get", {}) as { certificate: string }).certificate;
          assert(ca === vault.ca.pem);
          const wrong = await codeOf(
            openVaultState(config, crypto.getRandomValues(new Uint8Array(32)), shared),
          );
          assert(/does not open with this master key/.test(wrong), wrong);
          const rows = await sql<{ sealed: string }>`select sealed from vault_secrets`.execute(
            vault.db,
          );
          assert(
            rows.rows.every((r) => !r.sealed.includes("BEGIN") && r.sealed.length > 40),
            "sealed at rest",
          );
        },
      );

      await t.step(
        "a failure half-way through consent leaves nothing behind (PGlite)",
        async () => {
          const phrase = await u.letterPhrase(admin, "alice");
          await sql`create function fail_cert() returns trigger language plpgsql as $$
          begin raise exception 'injected fault'; end $$`.execute(vault.db);
          await sql`create trigger fail_cert before insert on certificates
          for each row execute function fail_cert()`.execute(vault.db);
          const code = await codeOf(u.consent(web, alice, phrase));
          assert(code.includes("injected fault"), code);
          const n = async (q: ReturnType<typeof sql<{ n: number }>>) =>
            Number((await q.execute(vault.db)).rows[0].n);
          assert((await n(sql`select count(*)::int as n from key_records`)) === 0);
          assert(
            (await n(sql`select count(*)::int as n from users where status = 'active'`)) === 0,
          );
          assert(
            (await n(sql`select count(*)::int as n from audit_log where op = 'consent'`)) === 0,
          );
          await sql`drop trigger fail_cert on certificates`.execute(vault.db);
          assert((await u.consent(web, alice, phrase)).status === "active");
        },
      );

      await t.step("login releases the record; the chain verifies", async () => {
        const r = await u.login(web, alice);
        assert(r.ok && (await u.openKeyRecord(r.keyRecord, r.exportKey, r.registration)).hashOk);
        assert((await verifyAudit(vault.db)).ok);
      });

      await t.step(
        "login.finish: held attempt (one statement) and read attempt (another instance) agree",
        async () => {
          // login.start on `vault`; login.finish either on `vault` (it holds the attempt)
          // or on a second instance over the same database (it must read the row).
          const other = await openVaultState(config, master.slice(), shared);
          const otherWeb = client("web", other);
          const split = {
            call: (op: string, body: unknown, opts?: { clientAddress?: string }) =>
              (op === "login.finish" ? otherWeb : web).call(op, body, opts),
          } as ProxyClient;
          const lastFinish = async () =>
            (await sql<{ identity: string; outcome: string; details: string }>`
              select identity, outcome, details from audit_log where op = 'login.finish'
              order by id desc limit 1`.execute(vault.db)).rows[0];
          const seen: Record<string, unknown[]> = { held: [], read: [] };
          for (const [name, c] of [["held", web], ["read", split]] as const) {
            const opts = { clientAddress: "203.0.113.7" };
            const start = async () => {
              const s = opaque.client.startLogin({ password: alice.password });
              const r = await web.call("login.start", {
                identity: "alice",
                startLoginRequest: s.startLoginRequest,
              }, opts) as { loginId: string; loginResponse: string; ksf: KeyRecordV1["kdf"] };
              const f = opaque.client.finishLogin({
                clientLoginState: s.clientLoginState,
                loginResponse: r.loginResponse,
                password: alice.password,
                keyStretching: { "argon2id-custom": { ...u.LIGHT_KSF } },
              })!;
              return { loginId: r.loginId, finishLoginRequest: f.finishLoginRequest };
            };
            const a = await start(), b = await start();
            // b's id with a's finish message: OPAQUE fails, the attempt is used up.
            const failed = { loginId: b.loginId, finishLoginRequest: a.finishLoginRequest };
            assert((await codeOf(c.call("login.finish", failed, opts))) === "login_failed");
            seen[name].push(await lastFinish());
            assert((await codeOf(c.call("login.finish", failed, opts))) === "login_expired");
            const released = await c.call("login.finish", a, opts) as { keyRecord: KeyRecord };
            assert(released.keyRecord.identity === "alice", "record released");
            seen[name].push(await lastFinish());
            assert((await codeOf(c.call("login.finish", a, opts))) === "login_expired");
            seen[name].push(await lastFinish());
          }
          assert(
            JSON.stringify(seen.held) === JSON.stringify(seen.read),
            `${JSON.stringify(seen.held)} != ${JSON.stringify(seen.read)}`,
          );
          assert(JSON.stringify(seen.held[0]).includes('"failed"'), JSON.stringify(seen.held));
          assert(JSON.stringify(seen.held[1]).includes("serial"), JSON.stringify(seen.held));
          assert((await verifyAudit(vault.db)).ok);
        },
      );

      await t.step("an expired application can be replaced; a live one cannot", async () => {
        const bob = await u.makeUser("bob");
        await u.apply(web, bob);
        assert((await codeOf(u.apply(web, await u.makeUser("bob")))) === "application_pending");
        await sql`update consents set expires_at = now() - interval '1 second' where identity = 'bob'`
          .execute(vault.db);
        assert(
          (await codeOf(u.consent(web, bob, await u.letterPhrase(admin, "bob")))) ===
            "consent_expired",
        );
        const bob2 = await u.makeUser("bob");
        assert((await u.apply(web, bob2)).status === "pending");
        assert(
          (await u.consent(web, bob2, await u.letterPhrase(admin, "bob"))).status === "active",
        );
      });
    } finally {
      await vault.close();
    }
  },
});
