/**
 * Protocol abuse against real processes (docs/hostile-input.md): replayed, reordered
 * and stale KS-channel requests; a key record of user A in B's session; consent for
 * another identity; OPAQUE messages of one login finished with another's state;
 * requests signed with a revoked and with a superseded key. Each is refused, and each
 * refusal is on record: an audit row in the vault (outcome `refused` / `failed` /
 * `wrong_phrase`, its code, nothing secret) or, for what only the web server sees, its
 * `refused` log line.
 */
import * as opaque from "@serenity-kit/opaque";
import { b64uDecode, b64uEncode } from "../../protocol/mod.ts";
import { utf8 } from "../../protocol/mod.ts";
import type { ProxyClient } from "../../platform/mod.ts";
// codeOf (the error code of a call) is taken by hostile.ts (the code in a raw answer body)
import { assertEquals, assertOk, codeOf as codeOfCall } from "../fixtures/assert.ts";
import { codeOf, RawChannel } from "../fixtures/hostile.ts";
import { startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";

interface AuditEntry {
  op: string;
  identity: string | null;
  outcome: string;
  details: Record<string, unknown>;
}

async function auditOf(admin: ProxyClient, identity: string): Promise<AuditEntry[]> {
  const r = await admin.call("admin.audit", { identity, limit: 1000 }) as {
    entries: AuditEntry[];
  };
  return r.entries.reverse();
}

/** Nothing secret in an audit row: only known detail keys, no long base64url blobs. */
function assertClean(row: AuditEntry, secrets: string[]) {
  const text = JSON.stringify(row);
  for (const s of secrets) assertOk(!text.includes(s), `secret in audit row: ${text}`);
  assertOk(!/[A-Za-z0-9_-]{60,}/.test(text), `blob in audit row: ${text}`);
}

async function registered(web: ProxyClient, admin: ProxyClient, id: string) {
  const user = await u.makeUser(id);
  await u.apply(web, user);
  await u.consent(web, user, await u.letterPhrase(admin, id));
  return user;
}

/** A re-registration body (new key pair and pass phrase) signed by `signer`. */
async function reregisterBody(
  web: ProxyClient,
  user: u.TestUser,
  signer: CryptoKey,
  reauthLoginId?: string,
  /** The re-authentication register.start needs for an existing identity (default: the one above). */
  startProof: string | undefined = reauthLoginId,
) {
  const next = await u.makeUser(user.registration.identity, {
    password: `${user.password} v2`,
    registration: user.registration,
    address: user.address,
  });
  await opaque.ready;
  const start = opaque.client.startRegistration({ password: next.password });
  const { registrationResponse } = await web.call("register.start", {
    identity: user.registration.identity,
    registrationRequest: start.registrationRequest,
    ...(startProof ? { reauthLoginId: startProof } : {}),
  }, { clientAddress: user.address }) as { registrationResponse: string };
  const fin = opaque.client.finishRegistration({
    clientRegistrationState: start.clientRegistrationState,
    registrationResponse,
    password: next.password,
    keyStretching: { "argon2id-custom": { ...u.LIGHT_KSF } },
  });
  const body = {
    identity: user.registration.identity,
    spki: next.spkiB64u,
    keyRecord: await u.buildKeyRecord(next, fin.exportKey),
    registrationRecord: fin.registrationRecord,
    nonce: u.freshNonce(),
    ...(reauthLoginId ? { reauthLoginId } : {}),
  };
  const signature = await u.signUserRequest(
    signer,
    "reregister",
    user.registration.identity,
    body.nonce,
    body,
  );
  return { next, body: { ...body, signature } };
}

Deno.test({
  name: "protocol abuse is refused and on record",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ web: true });
    const webUrl = stack.webUrl!;
    const web = stack.webClient(), admin = stack.adminClient();
    const refusedLines = (code: string) =>
      stack.web!.lines.filter((l) => l.includes('"event":"refused"') && l.includes(`"${code}"`));
    try {
      const alice = await registered(web, admin, "abusealice");
      const bob = await registered(web, admin, "abusebob");

      await t.step("KS channel: replayed, reordered, stale, cross-session", async () => {
        const ch = await RawChannel.open(webUrl);
        const req = (op: string, args: unknown, ts = Date.now()) =>
          utf8(JSON.stringify({ op, ts, args }));
        const dir = { identity: "abusealice", startLoginRequest: "A".repeat(43) };
        // 1 → accepted (an operation refusal still uses the number up)
        const first = await ch.sealBytes(req("login.start", dir), 1);
        const env1 = { sid: ch.offer.sid, ...first };
        assertOk(codeOf((await ch.sendEnvelope(env1)).body) !== "replayed_request");
        // the same envelope again → replayed_request
        assertEquals(codeOf((await ch.sendEnvelope(env1)).body), "replayed_request");
        // 3 before 2 → out_of_order; then 2 and 3 in order are accepted
        const s2 = await ch.sealBytes(req("session.close", {}), 2);
        const s3 = await ch.sealBytes(
          req("login.finish", { loginId: "x", finishLoginRequest: "AAAA" }),
          3,
        );
        assertEquals(
          codeOf((await ch.sendEnvelope({ sid: ch.offer.sid, ...s3 })).body),
          "out_of_order",
        );
        // seq 2 sealed as a different op, then bit-flipped → bad_ciphertext, number not used
        const flipped = b64uDecode(s2.ct);
        flipped[0] ^= 1;
        assertEquals(
          codeOf(
            (await ch.sendEnvelope({ sid: ch.offer.sid, ...s2, ct: b64uEncode(flipped) })).body,
          ),
          "bad_ciphertext",
        );
        // a stale request (ts 2 min old) → stale_request, and its number is used up
        const stale = await ch.sealBytes(
          req("login.finish", { loginId: "x", finishLoginRequest: "AAAA" }, Date.now() - 120_000),
          2,
        );
        assertEquals(
          codeOf((await ch.sendEnvelope({ sid: ch.offer.sid, ...stale })).body),
          "stale_request",
        );
        assertEquals(
          codeOf((await ch.sendEnvelope({ sid: ch.offer.sid, ...s2 })).body),
          "replayed_request",
        );
        assertEquals(
          codeOf((await ch.sendEnvelope({ sid: ch.offer.sid, ...s3 })).body),
          "no_pending_login",
        );
        // another session's envelope, presented under this session's id → bad_ciphertext
        const other = await RawChannel.open(webUrl);
        const foreign = await other.sealBytes(req("session.close", {}), 4);
        assertEquals(
          codeOf((await ch.sendEnvelope({ sid: ch.offer.sid, ...foreign })).body),
          "bad_ciphertext",
        );
        for (
          const code of [
            "replayed_request",
            "out_of_order",
            "bad_ciphertext",
            "stale_request",
            "no_pending_login",
          ]
        ) {
          assertOk(refusedLines(code).length > 0, `no refused log line for ${code}`);
        }
        const line = JSON.parse(refusedLines("replayed_request")[0]);
        assertEquals(typeof line.sid, "string");
        assertOk(!line.sid.includes(ch.offer.sid) && !JSON.stringify(line).includes(ch.offer.sid));
      });

      await t.step(
        "a key record of A in B's session, and A's identity from B's session",
        async () => {
          const ch = await RawChannel.open(webUrl);
          await ch.signIn("abusebob", bob.password);
          // A's record (any record naming abusealice) in B's signed update: B's signature is valid.
          const aliceRecord = await u.buildKeyRecord(alice, b64uEncode(new Uint8Array(64)));
          const nonce = await ch.nonce();
          const body = { registration: bob.registration, keyRecord: aliceRecord, nonce };
          const signature = await u.signUserRequest(
            bob.keys.privateKey,
            "registration.update",
            "abusebob",
            nonce,
            body,
          );
          const r = await ch.call("registration.update", { ...body, signature });
          assertEquals(r.ok ? "ok" : r.code, "key_record_mismatch");
          const rows = (await auditOf(admin, "abusebob")).filter((e) => e.outcome === "refused");
          const row = rows.find((e) => e.op === "registration.update");
          assertOk(row, "key_record_mismatch is audited");
          assertEquals(row.details.code, "key_record_mismatch");
          assertClean(row, [signature, aliceRecord.ct, bob.password]);
          // B's session asking to revoke A: the web server refuses before the vault.
          const nonce2 = await ch.nonce();
          const revoke = await ch.call("revoke", {
            identity: "abusealice",
            nonce: nonce2,
            signature: await u.signUserRequest(
              bob.keys.privateKey,
              "revoke",
              "abusealice",
              nonce2,
              { identity: "abusealice", nonce: nonce2 },
            ),
          });
          assertEquals(revoke.ok ? "ok" : revoke.code, "wrong_identity");
          assertOk(refusedLines("wrong_identity").length > 0);
          // Straight to the vault with B's signature over A's revocation: signature_invalid, audited.
          const n3 = u.freshNonce();
          const code = await codeOfCall(web.call("revoke", {
            identity: "abusealice",
            nonce: n3,
            signature: await u.signUserRequest(bob.keys.privateKey, "revoke", "abusealice", n3, {
              identity: "abusealice",
              nonce: n3,
            }),
          }, { clientAddress: bob.address }));
          assertEquals(code, "signature_invalid");
          const aRows = await auditOf(admin, "abusealice");
          assertOk(
            aRows.some((e) =>
              e.op === "revoke" && e.outcome === "refused" && e.details.code === "signature_invalid"
            ),
          );
          assertEquals(
            (await web.call("directory.get", { identity: "abusealice" }) as { status: string })
              .status,
            "active",
          );
        },
      );

      await t.step(
        "consent for another identity: wrong phrase counted, other data refused",
        async () => {
          const carol = await u.makeUser("abusecarol", {
            registration: {
              fullName: "Carol Other",
              accountNumber: "99 1234",
              address: "9 Elm Row",
            },
          });
          const dave = await u.makeUser("abusedave");
          await u.apply(web, carol);
          await u.apply(web, dave);
          const davePhrase = await u.letterPhrase(admin, "abusedave");
          // Carol's data with Dave's phrase: a wrong phrase for Carol (counted, audited).
          const ch = await RawChannel.open(webUrl);
          const r1 = await ch.call("consent", {
            registration: carol.registration,
            phrase: davePhrase,
          });
          assertEquals(r1.ok ? "ok" : r1.code, "wrong_phrase");
          // Dave's phrase with Dave's identity but Carol's other data: registration_mismatch.
          const r2 = await ch.call("consent", {
            registration: { ...carol.registration, identity: "abusedave" },
            phrase: davePhrase,
          });
          assertEquals(r2.ok ? "ok" : r2.code, "registration_mismatch");
          const c = await auditOf(admin, "abusecarol");
          assertOk(c.some((e) => e.op === "consent" && e.outcome === "wrong_phrase"));
          const d = await auditOf(admin, "abusedave");
          const row = d.find((e) => e.op === "consent" && e.outcome === "refused");
          assertOk(row && row.details.code === "registration_mismatch", JSON.stringify(d));
          for (const e of [...c, ...d]) {
            assertClean(e, [davePhrase, davePhrase.replaceAll("-", "")]);
          }
          // Neither is active; Dave can still consent with his own data.
          assertEquals((await u.consent(web, dave, davePhrase)).status, "active");
          const carolApp = await web.call("application.get", { identity: "abusecarol" }) as {
            status: string;
          };
          assertEquals(carolApp.status, "pending");
        },
      );

      await t.step("OPAQUE: login X finished with login Y's messages", async () => {
        await opaque.ready;
        const x = opaque.client.startLogin({ password: alice.password });
        const y = opaque.client.startLogin({ password: alice.password });
        const opts = { clientAddress: alice.address };
        const sx = await web.call("login.start", {
          identity: "abusealice",
          startLoginRequest: x.startLoginRequest,
        }, opts) as { loginId: string; loginResponse: string };
        const sy = await web.call("login.start", {
          identity: "abusealice",
          startLoginRequest: y.startLoginRequest,
        }, opts) as { loginId: string; loginResponse: string };
        const ks = { "argon2id-custom": { ...u.LIGHT_KSF } };
        const fy = opaque.client.finishLogin({
          clientLoginState: y.clientLoginState,
          loginResponse: sy.loginResponse,
          password: alice.password,
          keyStretching: ks,
        })!;
        const fx = opaque.client.finishLogin({
          clientLoginState: x.clientLoginState,
          loginResponse: sx.loginResponse,
          password: alice.password,
          keyStretching: ks,
        })!;
        // Y's finish against X's server state.
        assertEquals(
          await codeOfCall(
            web.call("login.finish", {
              loginId: sx.loginId,
              finishLoginRequest: fy.finishLoginRequest,
            }, opts),
          ),
          "login_failed",
        );
        // X's attempt is used up: even its own finish no longer releases anything.
        assertEquals(
          await codeOfCall(
            web.call("login.finish", {
              loginId: sx.loginId,
              finishLoginRequest: fx.finishLoginRequest,
            }, opts),
          ),
          "login_expired",
        );
        const rows = await auditOf(admin, "abusealice");
        assertOk(rows.some((e) => e.op === "login.finish" && e.outcome === "failed"));
        // Through the channel: a loginId of another session is not this session's login.
        const ch1 = await RawChannel.open(webUrl);
        const ch2 = await RawChannel.open(webUrl);
        const z = opaque.client.startLogin({ password: alice.password });
        const s2 = await ch2.ok("login.start", {
          identity: "abusealice",
          startLoginRequest: z.startLoginRequest,
        }) as { loginId: string };
        const r = await ch1.call("login.finish", {
          loginId: s2.loginId,
          finishLoginRequest: fy.finishLoginRequest,
        });
        assertEquals(r.ok ? "ok" : r.code, "no_pending_login");
        // Y itself still works: nothing above touched it.
        const ok = await web.call("login.finish", {
          loginId: sy.loginId,
          finishLoginRequest: fy.finishLoginRequest,
        }, opts) as { keyRecord: unknown };
        assertOk(ok.keyRecord);
      });

      await t.step("signed with a superseded key, then with a revoked key", async () => {
        const erin = await registered(web, admin, "abuseerin");
        const oldKey = erin.keys.privateKey;
        const { next, body } = await reregisterBody(
          web,
          erin,
          oldKey,
          await u.reauthProof(web, erin),
        );
        await web.call("reregister", body, { clientAddress: erin.address });
        // The old key signs an update after the re-registration.
        const nonce = u.freshNonce();
        const update = {
          registration: { ...erin.registration, address: "2 Other Road" },
          keyRecord: body.keyRecord,
          nonce,
        };
        const sig = await u.signUserRequest(
          oldKey,
          "registration.update",
          "abuseerin",
          nonce,
          update,
        );
        assertEquals(
          await codeOfCall(
            web.call("registration.update", { ...update, signature: sig }, {
              clientAddress: erin.address,
            }),
          ),
          "key_superseded",
        );
        // And a second re-registration signed by the old key (register.start itself is
        // re-authenticated with the current pass phrase; the request names no proof).
        const again = await reregisterBody(
          web,
          erin,
          oldKey,
          undefined,
          await u.reauthProof(web, next),
        );
        assertEquals(
          await codeOfCall(web.call("reregister", again.body, { clientAddress: erin.address })),
          "key_superseded",
        );
        // Revoked: the operator revokes; the (current) key signs a revocation and an update.
        await admin.call("admin.revoke", { identity: "abuseerin", reason: "abuse test" });
        const n2 = u.freshNonce();
        const rv = await codeOfCall(web.call("revoke", {
          identity: "abuseerin",
          nonce: n2,
          signature: await u.signUserRequest(oldKey, "revoke", "abuseerin", n2, {
            identity: "abuseerin",
            nonce: n2,
          }),
        }, { clientAddress: erin.address }));
        assertEquals(rv, "account_revoked");
        const rows = await auditOf(admin, "abuseerin");
        const refused = rows.filter((e) => e.outcome === "refused").map((e) =>
          `${e.op}:${e.details.code}`
        );
        assertEquals(refused, [
          "registration.update:key_superseded",
          "reregister:key_superseded",
          "revoke:account_revoked",
        ]);
        for (const e of rows) assertClean(e, [sig, body.signature, erin.password]);
        // Nothing changed: one re-registration, then the operator's revocation.
        assertEquals(rows.filter((e) => e.outcome !== "refused").map((e) => e.op), [
          "apply",
          "consent",
          "login.start", // the re-authentication before the re-registration
          "login.finish",
          "login.finish",
          "reregister",
          "login.start", // the re-authentication register.start needs for the second attempt
          "login.finish",
          "login.finish",
          "admin.revoke",
        ]);
      });

      await t.step("the audit chain verifies with the refusal rows in it", async () => {
        const r = await admin.call("admin.audit.verify", {}) as { ok: boolean };
        assertOk(r.ok);
      });
    } finally {
      await stack.stop();
    }
  },
});
