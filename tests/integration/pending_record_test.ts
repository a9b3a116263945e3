/**
 * The previous key record is kept until the new one has been used to sign in once
 * (issue 15, item 1; docs/lifecycle.md, "Pending key record"). A `registration.update`
 * stores its record as *pending*: the vault cannot tell a good record from garbage,
 * only the owner's applet can, by opening it after a sign-in. So a thief at a signed-in
 * laptop who got past re-authentication (here: riding the owner's own fresh proof) and
 * stored garbage ciphertext with a new address cannot lock the owner out: the owner
 * signs in with the pass phrase and gets the previous, working key and data, every time.
 * A good update becomes current at the first sign-in that opens it.
 *
 * Run with the applet's own protocol code in Deno, through the real web server; users
 * stretch with the tests' light setting (LIGHT_KSF), which the stack's vault sets.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { LIGHT_KSF, startStack } from "../../harness/mod.ts";
import {
  b64uEncode,
  type KeyRecord,
  parseCertificate,
  pemDecode,
  userRequestBytes,
  utf8,
} from "../../protocol/mod.ts";
import { forget, reauthenticate, updateRegistration } from "../../applet/mod.ts";
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

      await t.step(
        "the thief's garbage record with a new address is accepted as pending",
        async () => {
          const { session, user } = before;
          // The owner re-authenticates (say, to update something); the thief at the same
          // laptop uses that proof before the owner does.
          const proof = await reauthenticate(session, user, utf8(alice.pass), LIGHT_KSF);
          const garbage: KeyRecord = {
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
        }
      });
    } finally {
      await stack.stop();
    }
  },
});
