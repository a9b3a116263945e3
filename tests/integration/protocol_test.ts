/**
 * The applet's protocol code, run from Deno against the real web server,
 * proxy and vault (PGlite): apply → consent → sign in → sign and submit →
 * update registration → sign in again with the updated data; plus the
 * refusals that only a real vault can give.
 */
import { assertEquals, assertOk, assertRejects } from "../fixtures/assert.ts";
import { startStack } from "../../harness/mod.ts";
import { consentPhraseFor, newPassphrase, newUser } from "../e2e/_applet.ts";
import { ready, session } from "../e2e/_deno_client.ts";
import {
  applyToRegister,
  FlowError,
  forget,
  giveConsent,
  reauthenticate,
  signAndSubmit,
  signIn,
  updateRegistration,
} from "../../applet/mod.ts";
import { RpcError } from "../../applet/mod.ts";
import { KSF_DEFAULT, utf8 } from "../../protocol/mod.ts";
import { b64uEncode } from "../../protocol/mod.ts";
import { verifyPkcs1v15 } from "../../wasm-crypto/mod.ts";

Deno.test({
  name: "[slow] protocol from Deno: apply, consent, sign in, sign, update, sign in again",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ready();
    // The applet's own parameters: these flows run with its floor.
    const stack = await startStack({ web: true, ksf: KSF_DEFAULT });
    const web = stack.webUrl!;
    try {
      const user = newUser("d");
      const pass = newPassphrase();
      await t.step("apply", async () => {
        const s = await session(web);
        const r = await applyToRegister(s, {
          registration: user,
          passphrase: utf8(pass),
          bits: 2048,
        });
        assertEquals(r.status, "pending");
        assertOk(r.consentExpiresAt);
      });
      await t.step("sign-in before consent is refused", async () => {
        const s = await session(web);
        await assertRejects(
          () => signIn(s, { identity: user.identity, passphrase: utf8(pass) }),
          RpcError,
          "account_pending",
        );
      });
      await t.step("consent", async () => {
        const s = await session(web);
        const r = await giveConsent(s, {
          registration: user,
          phrase: await consentPhraseFor(stack, user.identity),
        });
        assertEquals(r.status, "active");
        assertOk(r.certificate.includes("BEGIN CERTIFICATE"));
      });
      await t.step(
        "sign in, sign, the server verifies; a forged signature is refused",
        async () => {
          const s = await session(web);
          const u = await signIn(s, { identity: user.identity, passphrase: utf8(pass) });
          const message = utf8("Pay 10.00 GBP to 20-00-00 12345678");
          const r = await signAndSubmit(s, u, message);
          assertEquals(r.verified, true);
          assertOk(verifyPkcs1v15(u.key.publicKey, "SHA-256", message, r.signature));
          const forged = r.signature.slice();
          forged[5] ^= 1;
          await assertRejects(
            () =>
              s.call("message.submit", {
                message: b64uEncode(message),
                signature: b64uEncode(forged),
              }),
            RpcError,
            "invalid_signature",
          );
          forget(u);
        },
      );
      await t.step(
        "update registration, then the record opens only with the new data",
        async () => {
          const s = await session(web);
          const u = await signIn(s, { identity: user.identity, passphrase: utf8(pass) });
          const next = { ...user, address: "2 New Street, Winchester" };
          const r = await updateRegistration(s, u, next, utf8(pass));
          assertEquals(r.status, "active");
          forget(u);
          const s2 = await session(web);
          const again = await signIn(s2, { identity: user.identity, passphrase: utf8(pass) });
          assertEquals(again.registration.address, "2 New Street, Winchester");
          forget(again);
        },
      );
      await t.step(
        "wrong pass phrase: refused in the client, login.finish never sent",
        async () => {
          const allowed = () =>
            stack.proxy.lines.filter((l) => l.includes('"decision":"allow","op":"login.finish"'))
              .length;
          const before = allowed();
          const s = await session(web);
          await assertRejects(
            () => signIn(s, { identity: user.identity, passphrase: utf8(pass + "x") }),
            FlowError,
            "wrong_passphrase",
          );
          assertEquals(allowed(), before);
        },
      );
      await t.step(
        "a signed request cannot be replayed in another session (nonce bound to sid+seq)",
        async () => {
          const s = await session(web);
          const u = await signIn(s, { identity: user.identity, passphrase: utf8(pass) });
          let captured: Record<string, unknown> | null = null;
          const reauthLoginId = await reauthenticate(s, u, utf8(pass));
          await s.call("registration.update", async (nonce) => {
            const { userRequestBytes } = await import("../../protocol/mod.ts");
            const { signPkcs1v15 } = await import("../../wasm-crypto/mod.ts");
            const { sealKeyRecordV2, withDataKey } = await import("../../protocol/mod.ts");
            const rec = u.record;
            if (rec.v !== 2) throw new Error("expected a record v2");
            const keyRecord = await withDataKey(u.kek, rec, u.slot, (dk) =>
              sealKeyRecordV2({
                dk,
                passphrase: rec.slots[0],
                registration: u.registration,
                pkcs8: u.key.exportPkcs8(),
                spki: u.key.publicKey.exportSpki(),
                bits: 2048,
              }));
            const body = { registration: u.registration, keyRecord, reauthLoginId, nonce };
            const sig = signPkcs1v15(
              u.key,
              "SHA-256",
              await userRequestBytes("registration.update", u.identity, nonce, body),
            );
            captured = { ...body, signature: b64uEncode(sig) };
            return captured;
          });
          // Same body again in the same session: the nonce belongs to the previous sequence number.
          await assertRejects(
            () => s.call("registration.update", captured!),
            RpcError,
            "bad_nonce",
          );
          forget(u);
        },
      );
    } finally {
      await stack.stop();
    }
  },
});
