/**
 * Re-authentication before `reregister` and the user's `revoke` (docs/lifecycle.md,
 * "Re-authentication"; docs/threat-model.md, "A stolen laptop with the applet open"),
 * through the real proxy and vault on PostgreSQL: a request signed by the current key
 * but without a fresh login with the current pass phrase is `reauth_required`,
 * audited, and changes nothing — also with a proof for another identity, a plain
 * sign-in's loginId, an expired proof or one already used. With the right proof the
 * operation works, and a retry with the same idempotency key gets the stored outcome
 * although the first attempt consumed the proof. Then the same from the applet's code
 * through the web server: a wrong current pass phrase leaves the user signed in, and
 * guessing it meets the sign-in backoff (docs/rate-limits.md).
 *
 * Users stretch their pass phrases with the tests' light setting (LIGHT_KSF).
 */
import { assertEquals, assertOk, codeOf } from "../fixtures/assert.ts";
import { postgresAvailable, sqlAsAdmin, startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";
import type { ProxyClient } from "../../platform/mod.ts";
import { consentPhraseFor, newUser } from "../e2e/_applet.ts";
import { applyFromDeno, consentFromDeno, ready, signedIn } from "../e2e/_deno_client.ts";
import { FlowError, forget, reauthenticate, reregister, signAndSubmit } from "../../applet/mod.ts";
import { utf8 } from "../../protocol/mod.ts";

async function activeUser(web: ProxyClient, admin: ProxyClient, identity: string) {
  const user = await u.makeUser(identity);
  await u.apply(web, user);
  await u.consent(web, user, await u.letterPhrase(admin, identity));
  return user;
}

Deno.test({
  name: "reregister and revoke need a fresh re-authentication (PostgreSQL, real processes)",
  ignore: !(await postgresAvailable()),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ready();
    const stack = await startStack({ db: "postgres", web: true });
    const web = stack.webClient();
    const admin = stack.adminClient();
    const q = async (text: string, params: unknown[] = []) =>
      (await sqlAsAdmin(stack.databaseUrl!, text, params)).rows;
    const refusals = async (identity: string, op: string) =>
      Number(
        (await q(
          `select count(*)::int as n from audit_log where identity = $1 and op = $2
           and outcome = 'refused' and details like '%"code":"reauth_required"%'`,
          [identity, op],
        ))[0].n,
      );
    /** What a refused request must leave as it was. */
    const state = async (identity: string) => ({
      history: await web.call("directory.history", { identity }),
      records: await q(
        `select (select record from key_records where identity = $1) as k,
                (select registration_record from opaque_records where identity = $1) as o,
                (select status from users where identity = $1) as s`,
        [identity],
      ),
    });
    try {
      const alice = await activeUser(web, admin, "reauthalice");
      const bob = await activeUser(web, admin, "reauthbob");
      const opts = { clientAddress: alice.address };
      const next = await u.makeUser("reauthalice", {
        registration: alice.registration,
        password: "alice's new pass phrase",
        address: alice.address,
      });

      await t.step("without a proof: reauth_required, audited, nothing changed", async () => {
        const before = await state("reauthalice");
        const rereg = await u.reregisterBody(web, alice, next, { reauthLoginId: null });
        assertEquals(await codeOf(web.call("reregister", rereg, opts)), "reauth_required");
        const revoke = await u.revokeBody(alice);
        assertEquals(await codeOf(web.call("revoke", revoke, opts)), "reauth_required");
        assertEquals(await refusals("reauthalice", "reregister"), 1);
        assertEquals(await refusals("reauthalice", "revoke"), 1);
        assertEquals(await state("reauthalice"), before);
        assertOk((await u.login(web, alice)).ok, "the current pass phrase still works");
      });

      await t.step("a proof for another identity is refused and stays unused", async () => {
        const before = await state("reauthalice");
        const bobs = await u.reauthProof(web, bob);
        const rereg = await u.reregisterBody(web, alice, next, { reauthLoginId: bobs });
        assertEquals(await codeOf(web.call("reregister", rereg, opts)), "reauth_required");
        const revoke = await u.revokeBody(alice, { reauthLoginId: bobs });
        assertEquals(await codeOf(web.call("revoke", revoke, opts)), "reauth_required");
        assertEquals(await state("reauthalice"), before);
        const [row] = await q("select consumed_at from reauth_proofs where login_id = $1", [bobs]);
        assertEquals(row.consumed_at, null, "bob's proof was not used up by alice's requests");
      });

      await t.step("a plain sign-in's loginId is no proof", async () => {
        const before = await state("reauthalice");
        const signin = await u.login(web, alice);
        assertOk(signin.ok);
        const rereg = await u.reregisterBody(web, alice, next, { reauthLoginId: signin.loginId });
        assertEquals(await codeOf(web.call("reregister", rereg, opts)), "reauth_required");
        assertEquals(await state("reauthalice"), before);
      });

      await t.step("an expired proof is refused", async () => {
        const before = await state("reauthalice");
        const proof = await u.reauthProof(web, alice);
        await q(
          "update reauth_proofs set expires_at = now() - interval '1 second' where login_id = $1",
          [proof],
        );
        const rereg = await u.reregisterBody(web, alice, next, { reauthLoginId: proof });
        assertEquals(await codeOf(web.call("reregister", rereg, opts)), "reauth_required");
        assertEquals(await state("reauthalice"), before);
      });

      await t.step(
        "with the right proof re-registration works; its retry gets the stored outcome",
        async () => {
          const idempotencyKey = u.freshIdempotencyKey();
          const proof = await u.reauthProof(web, alice);
          const body = await u.reregisterBody(web, alice, next, {
            idempotencyKey,
            reauthLoginId: proof,
          });
          const { vaultSignature: _s1, ...first } = await web.call("reregister", body, opts) as {
            superseded: string;
            vaultSignature: string;
          };
          const [row] = await q(
            "select consumed_at, consumed_by from reauth_proofs where login_id = $1",
            [proof],
          );
          assertOk(row.consumed_at !== null && row.consumed_by === "reregister");
          const retry = await u.resigned(alice.keys.privateKey, "reregister", "reauthalice", body);
          // each answer carries the vault's signature for its own request nonce
          const { vaultSignature: _s2, ...again } = await web.call("reregister", retry, opts) as {
            vaultSignature: string;
          };
          assertEquals(again, first, "the stored outcome");
          assertEquals(
            Number(
              (await q(
                `select count(*)::int as n from audit_log where identity = $1
               and op = 'reregister' and outcome = 'reregistered'`,
                ["reauthalice"],
              ))[0].n,
            ),
            1,
          );
          Object.assign(alice, next);
          assertOk((await u.login(web, alice)).ok, "the new pass phrase works");
        },
      );

      await t.step("a used proof is refused for a new request", async () => {
        const before = await state("reauthalice");
        const [{ login_id: used }] = await q(
          "select login_id from reauth_proofs where identity = $1 and consumed_at is not null",
          ["reauthalice"],
        );
        const revoke = await u.revokeBody(alice, { reauthLoginId: used });
        assertEquals(await codeOf(web.call("revoke", revoke, opts)), "reauth_required");
        assertEquals(await state("reauthalice"), before);
      });

      await t.step("with the right proof revocation works; its retry too", async () => {
        const idempotencyKey = u.freshIdempotencyKey();
        const reauthLoginId = await u.reauthProof(web, alice);
        const body = await u.revokeBody(alice, { idempotencyKey, reauthLoginId });
        const first = await web.call("revoke", body, opts) as { status: string };
        assertEquals(first.status, "revoked");
        const retry = await u.resigned(alice.keys.privateKey, "revoke", "reauthalice", body);
        assertEquals(await web.call("revoke", retry, opts), first);
        assertEquals(await codeOf(u.login(web, alice)), "account_revoked");
      });

      await t.step(
        "through the web server: a wrong current pass phrase is wrong_passphrase, still signed in",
        async () => {
          const webUrl = stack.webUrl!;
          const r = newUser("reauthc");
          const pass = `pass phrase of ${r.identity}`;
          await applyFromDeno(webUrl, r, pass, u.LIGHT_KSF);
          await consentFromDeno(webUrl, r, await consentPhraseFor(stack, r.identity));
          const { session, user } = await signedIn(webUrl, r.identity, pass, u.LIGHT_KSF);
          try {
            const serial = (await web.call("directory.get", { identity: r.identity }) as {
              serial: string;
            }).serial;
            const err = await reregister(session, user, {
              passphrase: utf8(`${pass} v2`),
              currentPassphrase: utf8(`not ${pass}`),
              bits: 2048,
              ksfFloor: u.LIGHT_KSF,
            }).then(() => null, (e) => e);
            assertOk(err instanceof FlowError && err.code === "wrong_passphrase", String(err));
            const dir = await web.call("directory.get", { identity: r.identity }) as {
              serial: string;
              status: string;
            };
            assertEquals([dir.status, dir.serial], ["active", serial]);
            // The session is still signed in: the key still signs and the server verifies.
            const signed = await signAndSubmit(session, user, utf8("still me"));
            assertOk(signed.verified);
            // And the right current pass phrase re-authenticates in the same session.
            const proof = await reauthenticate(session, user, utf8(pass), u.LIGHT_KSF);
            const [row] = await q(
              "select identity, consumed_at from reauth_proofs where login_id = $1",
              [proof],
            );
            assertEquals([row.identity, row.consumed_at], [r.identity, null]);
          } finally {
            forget(user);
            await session.close();
          }
        },
      );

      await t.step(
        "guessing the current pass phrase is throttled like a sign-in (login class backoff)",
        async () => {
          const webUrl = stack.webUrl!;
          const r = newUser("reauthd");
          const pass = `pass phrase of ${r.identity}`;
          await applyFromDeno(webUrl, r, pass, u.LIGHT_KSF);
          await consentFromDeno(webUrl, r, await consentPhraseFor(stack, r.identity));
          const { session, user } = await signedIn(webUrl, r.identity, pass, u.LIGHT_KSF);
          try {
            // After 5 unanswered login.starts the waits are 1 s, 2 s, 4 s, … and a guess
            // during a wait is refused: within 12 quick guesses one must be.
            const codes: string[] = [];
            for (let i = 0; i < 12 && !codes.includes("backoff"); i++) {
              const err = await reauthenticate(
                session,
                user,
                utf8(`a wrong guess ${i}`),
                u.LIGHT_KSF,
              )
                .then(() => null, (e) => e);
              codes.push(err?.code ?? "ok");
            }
            assertEquals(codes.at(-1), "backoff", codes.join());
            assertOk(codes.slice(0, -1).every((c) => c === "wrong_passphrase"), codes.join());
            // Throttling refuses; it does not sign the user out.
            assertOk((await signAndSubmit(session, user, utf8("still me"))).verified);
          } finally {
            forget(user);
            await session.close();
          }
        },
      );

      await t.step("the audit chain verifies", async () => {
        const report = await admin.call("admin.audit.verify", {}) as { ok: boolean };
        assertOk(report.ok, JSON.stringify(report));
      });
    } finally {
      await stack.stop();
    }
  },
});
