/**
 * The previous key record is kept until the new one has been used to sign in once
 * (issue 15, item 1; docs/lifecycle.md, "Pending key record"). A `registration.update`
 * stores its record as *pending*: the vault cannot tell a good record from garbage,
 * only the owner's applet can, by opening it after a sign-in. So a thief at a signed-in
 * laptop who got past re-authentication (here: riding the owner's own fresh proof) and
 * stored garbage ciphertext with a new address cannot lock the owner out: the owner
 * signs in with the pass phrase and gets the previous, working key and data, every time.
 * The thief cannot confirm the garbage either. A good update becomes current at the
 * first sign-in that opens it; a re-registration while one is pending makes current the
 * data its new record is sealed with.
 *
 * Run with the applet's own protocol code in Deno, through the real web server; users
 * stretch with the tests' light setting (LIGHT_KSF), which the stack's vault sets.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { LIGHT_KSF, startStack } from "../../harness/mod.ts";
import {
  type AnyKeyRecord,
  b64uEncode,
  parseCertificate,
  pemDecode,
  userRequestBytes,
  utf8,
} from "../../protocol/mod.ts";
import {
  forget,
  reauthenticate,
  reregister,
  RpcError,
  updateRegistration,
} from "../../applet/mod.ts";
import { signPkcs1v15 } from "../../wasm-crypto/mod.ts";
import { activeUserFromDeno, ready, signedIn } from "../e2e/_deno_client.ts";

Deno.test({
  name: "an update that stores garbage does not lock the owner out",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ready();
    const stack = await startStack({ web: true });
    const web = stack.webUrl!;
    try {
      const alice = await activeUserFromDeno(stack, "pend");
      const before = await signedIn(web, alice.id, alice.pass, LIGHT_KSF);
      const original = before.user.registration;
      const spki = before.user.key.publicKey.exportSpki();
      const admin = stack.adminClient();
      const promotions = async () => {
        const { entries } = await admin.call("admin.audit", { identity: alice.id, limit: 200 }) as {
          entries: { op: string; outcome: string }[];
        };
        return entries.filter((e) => e.op === "login.confirm" && e.outcome === "promoted").length;
      };

      await t.step(
        "the thief's garbage record with a new address is accepted as pending",
        async () => {
          const { session, user } = before;
          // The owner re-authenticates (say, to update something); the thief at the same
          // laptop uses that proof before the owner does.
          const proof = await reauthenticate(session, user, utf8(alice.pass), LIGHT_KSF);
          const garbage: AnyKeyRecord = {
            ...user.record,
            ct: b64uEncode(crypto.getRandomValues(new Uint8Array(1300))),
          };
          const moved = { ...original, address: "1 Thief Lane, Elsewhere" };
          const r = await session.call<{ status: string }>("registration.update", async (nonce) => {
            const body = { registration: moved, keyRecord: garbage, reauthLoginId: proof, nonce };
            const signature = signPkcs1v15(
              user.key,
              "SHA-256",
              await userRequestBytes("registration.update", alice.id, nonce, body),
            );
            return { ...body, signature: b64uEncode(signature) };
          });
          assertEquals(r.status, "active");
          // Nor can the thief make it current: a confirmation needs the MAC under the
          // session key of a sign-in, which takes the pass phrase.
          const confirm = await session.call("login.confirm", {
            identity: alice.id,
            mac: b64uEncode(crypto.getRandomValues(new Uint8Array(32))),
          }).then(() => null, (e) => e);
          assertOk(
            confirm instanceof RpcError && confirm.code === "confirm_invalid",
            String(confirm),
          );
          forget(user);
          await session.close();
        },
      );

      for (const n of [1, 2]) {
        await t.step(`sign-in ${n}: the owner gets the previous key and data`, async () => {
          const { session, user } = await signedIn(web, alice.id, alice.pass, LIGHT_KSF);
          try {
            assertEquals(user.registration, original);
            assertEquals(user.key.publicKey.exportSpki(), spki);
            assertEquals(parseCertificate(pemDecode(user.certificate)).spki, spki);
          } finally {
            forget(user);
            await session.close();
          }
        });
      }

      await t.step("nothing was confirmed", async () => {
        assertEquals(await promotions(), 0);
      });

      await t.step("a good update becomes current at the first sign-in that opens it", async () => {
        const { session, user } = await signedIn(web, alice.id, alice.pass, LIGHT_KSF);
        const moved = { ...original, address: "2 New Street, Leeds" };
        await updateRegistration(session, user, moved, utf8(alice.pass), LIGHT_KSF);
        forget(user);
        await session.close();
        for (let n = 0; n < 2; n++) {
          const again = await signedIn(web, alice.id, alice.pass, LIGHT_KSF);
          assertEquals(again.user.registration.address, moved.address);
          forget(again.user);
          await again.session.close();
          assertEquals(await promotions(), 1, "confirmed once, by the first sign-in");
        }
      });
      await t.step(
        "an update still pending, then a re-registration: the data it was sealed with are current",
        async () => {
          const { session, user } = await signedIn(web, alice.id, alice.pass, LIGHT_KSF);
          const moved = { ...user.registration, address: "3 Last Road, York" };
          await updateRegistration(session, user, moved, utf8(alice.pass), LIGHT_KSF);
          const pass = `${alice.pass} v2`;
          await reregister(session, user, {
            passphrase: utf8(pass),
            currentPassphrase: utf8(alice.pass),
            bits: 2048,
            ksfFloor: LIGHT_KSF,
          });
          forget(user);
          await session.close();
          const again = await signedIn(web, alice.id, pass, LIGHT_KSF);
          assertEquals(again.user.registration.address, moved.address);
          forget(again.user);
          await again.session.close();
        },
      );
    } finally {
      await stack.stop();
    }
  },
});
