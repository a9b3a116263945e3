/**
 * `registration.update` from a stolen, signed-in applet (issue 15, item 1;
 * docs/threat-model.md, "A stolen laptop with the applet open"): the thief has the session
 * and SKu, so can sign, but not the pass phrase. A `registration.update` without a fresh
 * re-authentication is `reauth_required`, audited, and changes nothing; one whose key
 * record carries other stretching parameters than the vault stored is refused even with
 * a proof; so the owner's next sign-in gets the stored parameters and opens the record.
 * With a proof and the stored parameters the update works.
 *
 * Users stretch their pass phrases with the tests' light setting (LIGHT_KSF).
 */
import { assertEquals, assertOk, codeOf } from "../fixtures/assert.ts";
import { startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";
import type { KeyRecordV1, KeyRecordV1 as KeyRecord, ProxyClient } from "../../platform/mod.ts";
import { b64uEncode } from "../../protocol/mod.ts";

async function updateBody(
  user: u.TestUser,
  registration: u.TestUser["registration"],
  keyRecord: KeyRecord,
  extra: { reauthLoginId?: string } = {},
) {
  const identity = user.registration.identity;
  const nonce = u.freshNonce();
  const body = { registration, keyRecord, nonce, ...extra };
  const signature = await u.signUserRequest(
    user.keys.privateKey,
    "registration.update",
    identity,
    nonce,
    body,
  );
  return { ...body, signature };
}

/** The key record a thief can build without the pass phrase: the signed-in one, altered. */
function thiefsRecord(current: KeyRecord, params: KeyRecordV1["kdf"]["params"]): KeyRecord {
  const ct = new Uint8Array(64);
  crypto.getRandomValues(ct);
  return { ...current, kdf: { ...current.kdf, params }, ct: b64uEncode(ct) };
}

async function startedKsf(web: ProxyClient, user: u.TestUser) {
  const start = await u.loginStartRequest(user);
  const r = await web.call("login.start", {
    identity: user.registration.identity,
    startLoginRequest: start.startLoginRequest,
  }, { clientAddress: user.address }) as { ksf: KeyRecordV1["kdf"] };
  return r.ksf.params;
}

Deno.test({
  name: "registration.update from a stolen signed-in applet cannot lock the owner out",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({});
    const web = stack.webClient();
    const admin = stack.adminClient();
    try {
      const alice = await u.makeUser("updalice");
      await u.apply(web, alice);
      await u.consent(web, alice, await u.letterPhrase(admin, "updalice"));
      const opts = { clientAddress: alice.address };
      const signedIn = await u.login(web, alice);
      assertOk(signedIn.ok);
      const moved = { ...alice.registration, address: "1 Thief Lane, Elsewhere" };
      const huge = { memory: 4194304, iterations: 64, parallelism: 1 };

      await t.step(
        "no proof, other Argon2 parameters and garbage ciphertext: refused",
        async () => {
          const body = await updateBody(alice, moved, thiefsRecord(signedIn.keyRecord, huge));
          assertEquals(
            await codeOf(web.call("registration.update", body, opts)),
            "reauth_required",
          );
          const { entries } = await admin.call("admin.audit", {
            identity: "updalice",
            limit: 100,
          }) as { entries: { op: string; outcome: string; details: { code?: string } }[] };
          assertOk(
            entries.some((e) =>
              e.op === "registration.update" && e.outcome === "refused" &&
              e.details.code === "reauth_required"
            ),
            "the refusal is audited",
          );
          assertEquals(await startedKsf(web, alice), alice.ksf, "the stored parameters");
          const again = await u.login(web, alice);
          assertOk(again.ok, "the owner still signs in");
          assertEquals(again.registration.address, alice.registration.address);
          const opened = await u.openKeyRecord(
            again.keyRecord,
            again.exportKey,
            alice.registration,
          );
          assertOk(opened.hashOk, "the owner's record still opens");
        },
      );

      await t.step("with a proof, other stretching parameters are still refused", async () => {
        const proof = await u.reauthProof(web, alice);
        const login = await u.login(web, alice);
        assertOk(login.ok);
        const updated = { ...alice, registration: moved, ksf: huge };
        const record = await u.buildKeyRecord(updated, login.exportKey);
        const body = await updateBody(alice, moved, record, { reauthLoginId: proof });
        assertEquals(await codeOf(web.call("registration.update", body, opts)), "ksf_mismatch");
        assertEquals(await startedKsf(web, alice), alice.ksf);
      });

      await t.step("with a proof and the stored parameters the update works", async () => {
        const proof = await u.reauthProof(web, alice);
        const login = await u.login(web, alice);
        assertOk(login.ok);
        const record = await u.buildKeyRecord({ ...alice, registration: moved }, login.exportKey);
        const body = await updateBody(alice, moved, record, { reauthLoginId: proof });
        await web.call("registration.update", body, opts);
        alice.registration = moved;
        const again = await u.login(web, alice);
        assertOk(again.ok);
        assertEquals(again.registration.address, moved.address);
        assertOk((await u.openKeyRecord(again.keyRecord, again.exportKey, moved)).hashOk);
      });
    } finally {
      await stack.stop();
    }
  },
});
