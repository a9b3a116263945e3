/**
 * Passkeys with the pending key record (docs/passkeys.md, "With the vault's stretching
 * parameters and the pending key record"; docs/lifecycle.md, "Pending key record"), the
 * applet's flows run from Deno through web server → proxy → vault:
 *
 * - an update made after a passkey sign-in is pending and v2 with the same data key; a
 *   passkey sign-in releases the current record only (no `pending`), so it shows the data
 *   in force; the next pass-phrase sign-in confirms the update, and then the passkey opens
 *   the promoted record with the new data and the same SKu;
 * - a v1 user with a pending v1 update: when the confirmation is lost the applet signs in
 *   with the pending record and does not upgrade (the upgrade would replace the current
 *   record with one sealed with data that are not current); the next sign-in confirms,
 *   then upgrades, and the v2 record carries the updated data.
 */
import { assert, assertEquals } from "../fixtures/assert.ts";
import { SoftAuthenticator } from "../fixtures/soft_authenticator.ts";
import { LIGHT_KSF, startStack } from "../../harness/mod.ts";
import {
  applyToRegister,
  finishAddPasskey,
  finishPasskeySignIn,
  forget,
  type Released,
  type SignedIn,
  signIn,
  startAddPasskey,
  startPasskeySignIn,
  updateRegistration,
} from "../../applet/mod.ts";
import type { Session } from "../../applet/mod.ts";
import type { ProxyClient } from "../../platform/mod.ts";
import { PASSKEY_PRF_INPUT, toHex, utf8 } from "../../protocol/mod.ts";
import { applyFromDeno, consentFromDeno, session } from "../e2e/_deno_client.ts";
import { consentPhraseFor, newUser } from "../e2e/_applet.ts";

const KSF = { ksfFloor: LIGHT_KSF };

async function pkcs8Hex(user: SignedIn): Promise<string> {
  const der = user.key.exportPkcs8();
  try {
    return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", der as BufferSource)));
  } finally {
    der.fill(0);
  }
}

/** The audit rows of `identity` as `op/outcome`, oldest first. */
async function auditOf(admin: ProxyClient, identity: string): Promise<string[]> {
  const { entries } = await admin.call("admin.audit", { identity, limit: 200 }) as {
    entries: { op: string; outcome: string; seq?: number }[];
  };
  return entries.map((e) => `${e.op}/${e.outcome}`).reverse();
}

/** A session whose `op` never gets through (the connection lost on the way). */
function dropping(s: Session, op: string): Session {
  const call = s.call.bind(s);
  (s as { call: unknown }).call = (name: string, args: never) =>
    name === op ? Promise.reject(new Error("connection lost")) : call(name, args);
  return s;
}

Deno.test({
  name: "[slow] passkeys and the pending record: a passkey sign-in releases the current record",
  ignore: Deno.env.get("ROAMSIGN_SLOW_TESTS") !== "1",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ web: true });
    const webUrl = stack.webUrl!;
    const auth = new SoftAuthenticator(`http://localhost:${new URL(webUrl).port}`);
    const admin = stack.adminClient();
    const open: Session[] = [];
    const fresh = async () => {
      const s = await session(webUrl);
      open.push(s);
      return s;
    };
    const passkeySignIn = async () => {
      const s = await fresh();
      const request = await startPasskeySignIn(s, "");
      const got = await auth.get(request, PASSKEY_PRF_INPUT);
      return { s, request, got };
    };
    try {
      const r = newUser("pkp");
      const pass = `pass phrase of ${r.identity}`;
      await applyFromDeno(webUrl, r, pass, LIGHT_KSF);
      await consentFromDeno(webUrl, r, await consentPhraseFor(stack, r.identity));
      const s = await fresh();
      const user = await signIn(s, { identity: r.identity, passphrase: utf8(pass), ...KSF });
      const skuHash = await pkcs8Hex(user);
      const { creation, reauthLoginId } = await startAddPasskey(s, user, utf8(pass), LIGHT_KSF);
      const made = await auth.create(creation, PASSKEY_PRF_INPUT);
      await finishAddPasskey(s, user, { challengeId: creation.challengeId, reauthLoginId }, {
        response: made.response,
        prf: made.prf!,
        name: "Laptop",
      });
      forget(user);
      const moved = { ...r, address: "2 New Street, Winchester" };

      await t.step("an update after a passkey sign-in is pending, v2, same data key", async () => {
        const { s: ps, request, got } = await passkeySignIn();
        const viaPasskey = await finishPasskeySignIn(ps, request, {
          response: got.response,
          prf: got.prf!,
          ...KSF,
        });
        const up = await updateRegistration(ps, viaPasskey, moved, utf8(pass), LIGHT_KSF);
        assertEquals(up.pending, true);
        assertEquals(viaPasskey.record.v, 2);
        forget(viaPasskey);
      });

      await t.step(
        "a passkey sign-in releases the current record only, nothing pending",
        async () => {
          const { s: ps, request, got } = await passkeySignIn();
          const released = await ps.call<Released>("passkey.login.finish", {
            challengeId: request.challengeId,
            response: got.response,
          });
          assertEquals(released.pending, undefined, "no pending record after a passkey");
          assertEquals(released.registration.address, r.address, "the data in force");
          const again = await passkeySignIn();
          const viaPasskey = await finishPasskeySignIn(again.s, again.request, {
            response: again.got.response,
            prf: again.got.prf!,
            ...KSF,
          });
          assertEquals(viaPasskey.registration.address, r.address);
          assertEquals(await pkcs8Hex(viaPasskey), skuHash);
          forget(viaPasskey);
          assert(!(await auditOf(admin, r.identity)).includes("login.confirm/promoted"));
        },
      );

      await t.step(
        "the pass phrase confirms it; then the passkey opens the new record",
        async () => {
          const viaPass = await signIn(await fresh(), {
            identity: r.identity,
            passphrase: utf8(pass),
            ...KSF,
          });
          assertEquals(viaPass.registration.address, moved.address);
          forget(viaPass);
          assert((await auditOf(admin, r.identity)).includes("login.confirm/promoted"));
          const { s: ps, request, got } = await passkeySignIn();
          const viaPasskey = await finishPasskeySignIn(ps, request, {
            response: got.response,
            prf: got.prf!,
            ...KSF,
          });
          assertEquals(viaPasskey.registration.address, moved.address);
          assertEquals(await pkcs8Hex(viaPasskey), skuHash);
          forget(viaPasskey);
        },
      );
    } finally {
      for (const s of open) await s.close().catch(() => undefined);
      await stack.stop();
    }
  },
});

Deno.test({
  name: "[slow] v1 → v2 upgrade with a pending update: only after the confirmation went through",
  ignore: Deno.env.get("ROAMSIGN_SLOW_TESTS") !== "1",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ web: true });
    const webUrl = stack.webUrl!;
    const admin = stack.adminClient();
    const open: Session[] = [];
    const fresh = async () => {
      const s = await session(webUrl);
      open.push(s);
      return s;
    };
    try {
      // A v1 user, as applets made them before passkeys, whose first sign-in did not get
      // its upgrade through, with a good v1 update pending.
      const r = newUser("pku");
      const pass = `pass phrase of ${r.identity}`;
      const id = r.identity;
      await applyToRegister(await fresh(), {
        registration: r,
        passphrase: utf8(pass),
        bits: 2048,
        ksfFloor: LIGHT_KSF,
        recordVersion: 1,
      });
      await consentFromDeno(webUrl, r, await consentPhraseFor(stack, id));
      const moved = { ...r, address: "3 Market Square, Romsey" };
      const s = dropping(await fresh(), "keyrecord.upgrade");
      const v1 = await signIn(s, { identity: id, passphrase: utf8(pass), ...KSF });
      assertEquals(v1.record.v, 1);
      const up = await updateRegistration(s, v1, moved, utf8(pass), LIGHT_KSF);
      assertEquals(up.pending, true);
      assertEquals(v1.record.v, 1, "the pending record is v1 too");
      forget(v1);
      const input = () => ({ identity: id, passphrase: utf8(pass), ...KSF });

      await t.step("confirmation lost: signed in with the pending record, no upgrade", async () => {
        const user = await signIn(dropping(await fresh(), "login.confirm"), input());
        assertEquals(user.registration.address, moved.address);
        assertEquals(user.record.v, 1, "not upgraded");
        forget(user);
        const audit = await auditOf(admin, id);
        assert(!audit.includes("login.confirm/promoted"));
        assert(!audit.includes("keyrecord.upgrade/upgraded"));
      });

      await t.step("the next sign-in confirms, then upgrades with the updated data", async () => {
        const user = await signIn(await fresh(), input());
        assertEquals(user.record.v, 2);
        assertEquals(user.registration.address, moved.address);
        forget(user);
        const audit = await auditOf(admin, id);
        const promoted = audit.indexOf("login.confirm/promoted");
        const upgraded = audit.indexOf("keyrecord.upgrade/upgraded");
        assert(promoted >= 0 && upgraded > promoted, `confirmed, then upgraded: ${audit}`);
      });

      await t.step("and the v2 record opens with the data in force", async () => {
        const s = await fresh();
        const user = await signIn(s, input());
        assertEquals(user.record.v, 2);
        assertEquals(user.registration.address, moved.address);
        forget(user);
      });
    } finally {
      for (const s of open) await s.close().catch(() => undefined);
      await stack.stop();
    }
  },
});
