/**
 * Passkeys through the whole server side (docs/passkeys.md): the applet's flows run from
 * Deno against web server → proxy → vault, with a software authenticator
 * (tests/fixtures/soft_authenticator.ts) in place of the browser's. Add a passkey, sign in
 * with it and sign; a replayed assertion, one for another origin, one without user
 * verification and one with an old signature counter are refused; a v1 record comes out
 * of its next sign-in as v2 with the same SKu; removing a passkey leaves the pass phrase
 * working; re-registration (a new pass phrase) re-wraps every passkey's slot to the new
 * data key, so each passkey opens the new key, and a relay that substitutes a passkey's
 * public key, or hides a passkey, makes it refuse with nothing stored; revocation erases
 * the passkeys.
 */
import { assert, assertEquals, assertRejects } from "../fixtures/assert.ts";
import { SoftAuthenticator } from "../fixtures/soft_authenticator.ts";
import { LIGHT_KSF, startStack } from "../../harness/mod.ts";
import {
  finishAddPasskey,
  finishPasskeySignIn,
  forget,
  listPasskeys,
  removePasskey,
  reregister,
  revokeKey,
  signAndSubmit,
  type SignedIn,
  signIn,
  startAddPasskey,
  startPasskeySignIn,
} from "../../applet/mod.ts";
import type { Session } from "../../applet/mod.ts";
import {
  b64uEncode,
  type KeyRecordV2,
  PASSKEY_PRF_INPUT,
  passkeyPublicKey,
  toHex,
  utf8,
  withDataKey,
  wrapToPasskey,
} from "../../protocol/mod.ts";
import { applyFromDeno, consentFromDeno, session } from "../e2e/_deno_client.ts";
import { consentPhraseFor, newUser } from "../e2e/_applet.ts";

const KSF = { ksfFloor: LIGHT_KSF };

/** The error code a call ends with ("ok" if it does not fail). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    throw e;
  }
}

async function addPasskey(
  s: Session,
  user: SignedIn,
  pass: string,
  auth: SoftAuthenticator,
  name = "Test key",
) {
  const { creation, reauthLoginId } = await startAddPasskey(s, user, utf8(pass), LIGHT_KSF);
  const made = await auth.create(creation, PASSKEY_PRF_INPUT);
  return await finishAddPasskey(s, user, { challengeId: creation.challengeId, reauthLoginId }, {
    response: made.response,
    prf: made.prf!,
    name,
  });
}

async function passkeySignIn(
  webUrl: string,
  auth: SoftAuthenticator,
  identity: string,
  bend = {},
) {
  const s = await session(webUrl);
  const request = await startPasskeySignIn(s, identity);
  const got = await auth.get(request, PASSKEY_PRF_INPUT, bend);
  return { s, request, got };
}

/** A passkey sign-in with the credential `credentialId` of `auth`; the user it opens. */
async function signInWith(
  webUrl: string,
  auth: SoftAuthenticator,
  credentialId: string,
  open: Session[],
): Promise<SignedIn> {
  const ps = await session(webUrl);
  open.push(ps);
  const request = await startPasskeySignIn(ps, "");
  const got = await auth.get({ ...request, allowCredentials: [credentialId] }, PASSKEY_PRF_INPUT);
  return await finishPasskeySignIn(ps, request, {
    response: got.response,
    prf: got.prf!,
    ksfFloor: LIGHT_KSF,
  });
}

type Listed = { credentialId: string; salt: string; pub: string; tag: string };

/**
 * A relaying web server, test side: `bend` rewrites the answer to `passkey.list` on its
 * way to the applet's flow; every other call goes through unchanged. Undone by the result.
 */
function relay(s: Session, bend: (passkeys: Listed[]) => Promise<Listed[]>): () => void {
  const call = s.call.bind(s);
  s.call = (async (op: string, args: never) => {
    const r = await call(op, args);
    if (op !== "passkey.list") return r;
    const listed = r as unknown as { passkeys: Listed[] };
    return { ...listed, passkeys: await bend(listed.passkeys) };
  }) as Session["call"];
  return () => {
    s.call = call;
  };
}

/** An X25519 public key nobody enrolled: the relay's own. */
async function relayPub(): Promise<string> {
  const random = () => crypto.getRandomValues(new Uint8Array(32));
  return b64uEncode(await passkeyPublicKey(random(), random()));
}

function spkiHex(user: SignedIn): string {
  return toHex(user.key.publicKey.exportSpki());
}

async function pkcs8Hex(user: SignedIn): Promise<string> {
  const der = user.key.exportPkcs8();
  try {
    return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", der as BufferSource)));
  } finally {
    der.fill(0);
  }
}

Deno.test({
  name:
    "[slow] passkeys: add, sign in and sign, refusals, upgrade, removal, re-registration, revocation",
  ignore: Deno.env.get("ROAMSIGN_SLOW_TESTS") !== "1",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ web: true });
    const webUrl = stack.webUrl!;
    const origin = `http://localhost:${new URL(webUrl).port}`;
    const auth = new SoftAuthenticator(origin);
    const admin = stack.adminClient();
    const open: Session[] = [];
    try {
      const r = newUser("pk");
      let pass = `pass phrase of ${r.identity}`;
      // A v1 record, as applets made before passkeys.
      const s0 = await session(webUrl);
      open.push(s0);
      const { applyToRegister } = await import("../../applet/mod.ts");
      await applyToRegister(s0, {
        registration: r,
        passphrase: utf8(pass),
        bits: 2048,
        ksfFloor: LIGHT_KSF,
        recordVersion: 1,
      });
      await consentFromDeno(webUrl, r, await consentPhraseFor(stack, r.identity));

      let user!: SignedIn;
      let s!: Session;
      let skuHash = "";
      await t.step("a v1 record signs in and comes out as v2 with the same SKu", async () => {
        const { entries: before } = await admin.call("admin.audit", {
          identity: r.identity,
        }) as { entries: { op: string }[] };
        assert(!before.some((e) => e.op === "keyrecord.upgrade"));
        s = await session(webUrl);
        open.push(s);
        user = await signIn(s, { identity: r.identity, passphrase: utf8(pass), ...KSF });
        assertEquals(user.record.v, 2);
        skuHash = await pkcs8Hex(user);
        // The next sign-in gets v2 from the vault and opens it to the same key.
        const s2 = await session(webUrl);
        open.push(s2);
        const again = await signIn(s2, { identity: r.identity, passphrase: utf8(pass), ...KSF });
        assertEquals(again.record.v, 2);
        assertEquals(await pkcs8Hex(again), skuHash);
        forget(again);
      });

      await t.step("an authenticator without PRF adds nothing", async () => {
        const noPrf = new SoftAuthenticator(origin, false);
        const { creation } = await startAddPasskey(s, user, utf8(pass), LIGHT_KSF);
        const made = await noPrf.create(creation, PASSKEY_PRF_INPUT);
        assertEquals(made.prf, null); // the page stops here: passkey_no_prf, nothing sent
        assertEquals((await listPasskeys(s, user)).length, 0);
      });

      let credentialId = "";
      await t.step("add a passkey (pass phrase again), listed with its name", async () => {
        const added = await addPasskey(s, user, pass, auth, "Laptop");
        credentialId = added.credentialId;
        const list = await listPasskeys(s, user);
        assertEquals(list.map((p) => [p.credentialId, p.name, p.lastUsedAt]), [
          [credentialId, "Laptop", null],
        ]);
      });

      await t.step("a wrong pass phrase adds no passkey", async () => {
        await assertRejects(
          () => startAddPasskey(s, user, utf8("not the pass phrase at all"), LIGHT_KSF),
          Error,
          "wrong_passphrase",
        );
      });

      await t.step("sign in with the passkey, no identity typed, and sign", async () => {
        const { s: ps, request, got } = await passkeySignIn(webUrl, auth, "");
        open.push(ps);
        assertEquals(request.allowCredentials, []);
        const viaPasskey = await finishPasskeySignIn(ps, request, {
          response: got.response,
          prf: got.prf!,
          ksfFloor: LIGHT_KSF,
        });
        assertEquals(viaPasskey.identity, r.identity);
        assertEquals(await pkcs8Hex(viaPasskey), skuHash);
        const signed = await signAndSubmit(ps, viaPasskey, utf8("pay 10 to bob"));
        assert(signed.verified);
        forget(viaPasskey);
        const [listed] = await listPasskeys(s, user);
        assert(listed.lastUsedAt !== null, "last used is recorded");
      });

      await t.step("a replayed assertion is refused (single-use challenge)", async () => {
        const { s: ps, request, got } = await passkeySignIn(webUrl, auth, r.identity);
        open.push(ps);
        await finishPasskeySignIn(ps, request, {
          response: got.response,
          prf: got.prf!,
          ksfFloor: LIGHT_KSF,
        })
          .then(forget);
        // The same answer again, on a fresh challenge in a new session: refused.
        const { s: ps2, request: req2 } = await passkeySignIn(webUrl, auth, r.identity);
        open.push(ps2);
        assertEquals(
          await codeOf(ps2.call("passkey.login.finish", {
            challengeId: req2.challengeId,
            response: got.response,
          })),
          "passkey_failed",
        );
        // Straight to the vault through the proxy, on its own used challenge: refused.
        assertEquals(
          await codeOf(
            stack.webClient().call("passkey.login.finish", {
              challengeId: request.challengeId,
              response: got.response,
            }),
          ),
          "passkey_challenge_expired",
        );
        // And its old challenge in a new session: the web server never started it there.
        assertEquals(
          await codeOf(ps2.call("passkey.login.finish", {
            challengeId: request.challengeId,
            response: got.response,
          })),
          "no_pending_login",
        );
      });

      for (
        const [what, bend] of [
          ["another origin", { origin: "http://evil.localhost:1" }],
          ["no user verification", { noUv: true }],
          ["an old signature counter", { counter: 1 }],
        ] as const
      ) {
        await t.step(`an assertion with ${what} is refused and audited`, async () => {
          const { s: ps, request, got } = await passkeySignIn(webUrl, auth, r.identity, bend);
          open.push(ps);
          assertEquals(
            await codeOf(finishPasskeySignIn(ps, request, {
              response: got.response,
              prf: got.prf!,
              ksfFloor: LIGHT_KSF,
            })),
            "passkey_failed",
          );
          // A good sign-in from this address ends the backoff the refusals count up.
          const ok = await session(webUrl);
          open.push(ok);
          forget(await signIn(ok, { identity: r.identity, passphrase: utf8(pass), ...KSF }));
        });
      }

      await t.step("remove the passkey (pass phrase again); the pass phrase signs in", async () => {
        await assertRejects(
          () => removePasskey(s, user, credentialId, utf8("a wrong pass phrase here"), LIGHT_KSF),
          Error,
          "wrong_passphrase",
        );
        assertEquals(
          (await removePasskey(s, user, credentialId, utf8(pass), LIGHT_KSF)).removed,
          true,
        );
        assertEquals((await listPasskeys(s, user)).length, 0);
        // The authenticator still holds it; the vault no longer knows it.
        const ps = await session(webUrl);
        open.push(ps);
        const request = await startPasskeySignIn(ps, "");
        const got = await auth.get(
          { ...request, allowCredentials: [credentialId] },
          PASSKEY_PRF_INPUT,
        );
        assertEquals(
          await codeOf(
            finishPasskeySignIn(ps, request, {
              response: got.response,
              prf: got.prf!,
              ksfFloor: LIGHT_KSF,
            }),
          ),
          "passkey_failed",
        );
        const s3 = await session(webUrl);
        open.push(s3);
        forget(await signIn(s3, { identity: r.identity, passphrase: utf8(pass), ...KSF }));
      });

      // Two passkeys from here on: one the relay bends, one it leaves alone.
      const ids: string[] = [];
      /** The old key's state, which a refused re-registration must leave as it was. */
      const unchanged = async (what: string) => {
        const { entries } = await admin.call("admin.audit", { identity: r.identity }) as {
          entries: { op: string; outcome: string }[];
        };
        assert(
          !entries.some((e) => e.op === "reregister" && e.outcome === "reregistered"),
          `${what}: nothing re-registered`,
        );
        assertEquals((await listPasskeys(s, user)).map((p) => p.credentialId), ids);
        assertEquals(await pkcs8Hex(user), skuHash, `${what}: the applet keeps the old key`);
        assert((await signAndSubmit(s, user, utf8(`pay 1 to bob, ${what}`))).verified);
        for (const id of ids) {
          const viaPasskey = await signInWith(webUrl, auth, id, open);
          assertEquals(
            await pkcs8Hex(viaPasskey),
            skuHash,
            `${what}: the passkey opens the old key`,
          );
          forget(viaPasskey);
        }
      };
      const reregisterAs = (next: string) =>
        reregister(s, user, {
          passphrase: utf8(next),
          currentPassphrase: utf8(pass),
          bits: 2048,
          ksfFloor: LIGHT_KSF,
        });

      await t.step(
        "a relay that substitutes a passkey's public key: re-registration refuses before sending anything",
        async () => {
          ids.push((await addPasskey(s, user, pass, auth, "Laptop")).credentialId);
          ids.push((await addPasskey(s, user, pass, auth, "Phone")).credentialId);
          const ownPub = await relayPub();
          const sent: string[] = [];
          const undo = relay(s, (passkeys) =>
            Promise.resolve(
              passkeys.map((p, i) => i === 0 ? { ...p, pub: ownPub } : p),
            ));
          const call = s.call;
          s.call = ((op: string, args: never) => {
            sent.push(op);
            return call(op, args);
          }) as Session["call"];
          try {
            assertEquals(await codeOf(reregisterAs(`new ${pass}`)), "passkey_slot_untrusted");
          } finally {
            undo();
          }
          assertEquals(sent, ["passkey.list"], "no re-authentication, no key, no reregister");
          await unchanged("substituted pub");
        },
      );

      await t.step(
        "a relay that knows the data key forges the tag: the vault refuses (passkey_slots_mismatch)",
        async () => {
          // An old pass phrase and a copy of the record give the data key; the vault still
          // holds the public key each passkey enrolled with.
          const ownPub = await relayPub();
          const record = user.record as KeyRecordV2;
          const undo = relay(
            s,
            (passkeys) =>
              withDataKey(user.kek, record, user.slot, async (dk) => {
                const p = passkeys[0];
                const forged = await wrapToPasskey(dk, r.identity, { ...p, pub: ownPub });
                return [{ ...p, pub: ownPub, tag: forged.tag }, ...passkeys.slice(1)];
              }),
          );
          try {
            assertEquals(await codeOf(reregisterAs(`new ${pass}`)), "passkey_slots_mismatch");
          } finally {
            undo();
          }
          await unchanged("forged tag");
        },
      );

      await t.step(
        "a relay that hides a passkey: the vault refuses (passkey_slots_mismatch)",
        async () => {
          const undo = relay(s, (passkeys) => Promise.resolve(passkeys.slice(1)));
          try {
            assertEquals(await codeOf(reregisterAs(`new ${pass}`)), "passkey_slots_mismatch");
          } finally {
            undo();
          }
          await unchanged("hidden passkey");
        },
      );

      await t.step(
        "re-registration with a new pass phrase re-wraps the passkeys: each opens the NEW key",
        async () => {
          const oldSpki = spkiHex(user);
          const next = `a new pass phrase of ${r.identity}`;
          const rr = await reregisterAs(next);
          assertEquals(rr.passkeysRewrapped, 2);
          const newSpki = spkiHex(user);
          assert(newSpki !== oldSpki, "a new key pair");
          assertEquals((await listPasskeys(s, user)).map((p) => p.credentialId), ids);
          for (const id of ids) {
            const viaPasskey = await signInWith(webUrl, auth, id, open);
            assertEquals(spkiHex(viaPasskey), newSpki, "the passkey opens the new key");
            assertEquals(await pkcs8Hex(viaPasskey), await pkcs8Hex(user));
            assert((await signAndSubmit(s, viaPasskey, utf8("pay 2 to bob"))).verified);
            forget(viaPasskey);
          }
          // The new pass phrase opens the same new key; the old one no longer signs in.
          const s4 = await session(webUrl);
          open.push(s4);
          const viaPhrase = await signIn(s4, {
            identity: r.identity,
            passphrase: utf8(next),
            ...KSF,
          });
          assertEquals(spkiHex(viaPhrase), newSpki);
          forget(viaPhrase);
          const s5 = await session(webUrl);
          open.push(s5);
          assertEquals(
            await codeOf(signIn(s5, { identity: r.identity, passphrase: utf8(pass), ...KSF })),
            "wrong_passphrase",
          );
          pass = next;
          const { entries } = await admin.call("admin.audit", { identity: r.identity }) as {
            entries: { op: string; outcome: string; details: Record<string, unknown> }[];
          };
          const row = entries.find((e) => e.op === "reregister" && e.outcome === "reregistered");
          assertEquals(row?.details.passkeysRewrapped, 2);
          assertEquals(row?.details.passkeysErased, undefined);
        },
      );

      await t.step("revocation erases every slot: the passkey no longer signs in", async () => {
        await revokeKey(s, user, utf8(pass), "test", LIGHT_KSF);
        const ps = await session(webUrl);
        open.push(ps);
        assertEquals(await codeOf(startPasskeySignIn(ps, r.identity)), "account_revoked");
        const request = await startPasskeySignIn(ps, "");
        const got = await auth.get(
          { ...request, allowCredentials: [] },
          PASSKEY_PRF_INPUT,
        );
        assertEquals(
          await codeOf(
            finishPasskeySignIn(ps, request, {
              response: got.response,
              prf: got.prf!,
              ksfFloor: LIGHT_KSF,
            }),
          ),
          "passkey_failed",
        );
        const { entries } = await admin.call("admin.audit", { identity: r.identity }) as {
          entries: { op: string; outcome: string; details: Record<string, unknown> }[];
        };
        const revoked = entries.find((e) => e.op === "revoke" && e.outcome === "revoked");
        assertEquals(revoked?.details.passkeysErased, 2);
        assert(entries.some((e) => e.op === "passkey.login.finish" && e.outcome === "refused"));
      });
    } finally {
      for (const s of open) await s.close().catch(() => undefined);
      await stack.stop();
    }
  },
});

Deno.test({
  name: "[slow] passkeys: a new registration is v2, and applyFromDeno users can add one",
  ignore: Deno.env.get("ROAMSIGN_SLOW_TESTS") !== "1",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const stack = await startStack({ web: true });
    try {
      const r = newUser("pkn");
      const pass = `pass phrase of ${r.identity}`;
      await applyFromDeno(stack.webUrl!, r, pass, LIGHT_KSF);
      await consentFromDeno(stack.webUrl!, r, await consentPhraseFor(stack, r.identity));
      const s = await session(stack.webUrl!);
      try {
        const user = await signIn(s, { identity: r.identity, passphrase: utf8(pass), ...KSF });
        assertEquals(user.record.v, 2);
        const { entries } = await stack.adminClient().call("admin.audit", {
          identity: r.identity,
        }) as { entries: { op: string }[] };
        assert(!entries.some((e) => e.op === "keyrecord.upgrade"), "nothing to upgrade");
        forget(user);
      } finally {
        await s.close();
      }
    } finally {
      await stack.stop();
    }
  },
});
