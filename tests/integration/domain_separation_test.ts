/**
 * Domain separation (issue 15 item 7, docs/host-bank.md "Who may send an instruction"): a
 * free-form "Sign message" must never produce bytes that a protocol signature would be
 * accepted for. A counterparty, Mallory, writes a text that is a debit instruction from
 * Alice to him and gets Alice to sign it as a message; then he sends it to the bank from
 * his own session. The applet refuses to sign such a text, and the bank refuses an
 * instruction that someone other than its signer sends. Real processes (PGlite).
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { startStack } from "../../harness/mod.ts";
import { LIGHT_KSF } from "../../harness/mod.ts";
import { activeUserFromDeno, anchorsOf, ready, signedIn } from "../e2e/_deno_client.ts";
import {
  type CheckedHostKeys,
  checkHostKeys,
  fetchHostKeys,
  type Session,
  signAndSubmit,
} from "../../applet/mod.ts";
import {
  b64uEncode,
  deriveHostKeys,
  formatDebitInstruction,
  HOST_KEY_BYTES,
  hostKeyLabel,
  openHost,
  randomBytes,
  sealHost,
  utf8,
} from "../../protocol/mod.ts";
import { encryptOaep, importPublicKeySpki, signPkcs1v15 } from "../../wasm-crypto/mod.ts";

/** Sends a message and its signature to the host as an applet would, from `session`. */
async function sendSigned(
  session: Session,
  host: CheckedHostKeys,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<{ ok: boolean; code?: string }> {
  const kh = randomBytes(HOST_KEY_BYTES);
  const key = encryptOaep(
    importPublicKeySpki(host.confidentialitySpki),
    "SHA-256",
    kh,
    hostKeyLabel(host.name),
  );
  const keys = await deriveHostKeys(kh, host.name);
  const inner = {
    v: 1,
    message: b64uEncode(message),
    signature: b64uEncode(signature),
    alg: "RSASSA-PKCS1-v1_5-SHA256",
  };
  const sealed = await sealHost(keys.c2h, "c2h", host.name, utf8(JSON.stringify(inner)));
  try {
    const reply = await session.call<{ iv: string; ct: string }>("host.submit", {
      key: b64uEncode(key),
      iv: sealed.iv,
      ct: sealed.ct,
    });
    await openHost(keys.h2c, "h2c", host.name, reply);
    return { ok: true };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code };
  }
}

Deno.test({
  name: "[slow] a free-form signature of text crafted as a debit instruction pays nobody",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ready();
    const stack = await startStack({ host: true });
    const web = stack.webUrl!;
    const register = (prefix: string) => activeUserFromDeno(stack, prefix);
    try {
      const alice = await register("da");
      const mallory = await register("dm");
      const host = await checkHostKeys(await fetchHostKeys(web), await anchorsOf(web));
      const crafted = utf8(formatDebitInstruction({
        host: "bank",
        messageId: crypto.randomUUID(),
        idempotencyKey: "domain-separation-key-0001",
        from: alice.id,
        to: mallory.id,
        amount: "500.00",
        currency: "GBP",
        reference: "thanks",
        date: new Date().toISOString(),
      }));

      await t.step("Alice's applet refuses to sign it as a message", async () => {
        const a = await signedIn(web, alice.id, alice.pass, LIGHT_KSF);
        try {
          const err = await signAndSubmit(a.session, a.user, crafted).then(() => null, (e) => e);
          assertEquals((err as { code?: string } | null)?.code, "reserved_message", String(err));
        } finally {
          await a.session.close();
        }
      });

      await t.step(
        "a signature over it, sent from Mallory's session: the bank refuses",
        async () => {
          // The signature an older applet would have made: Alice's key over the crafted text.
          const a = await signedIn(web, alice.id, alice.pass, LIGHT_KSF);
          const signature = signPkcs1v15(a.user.key, "SHA-256", crafted);
          await a.session.close();
          const m = await signedIn(web, mallory.id, mallory.pass, LIGHT_KSF);
          try {
            const r = await sendSigned(m.session, host, crafted, signature);
            assertOk(!r.ok, "the bank must not pay Alice's money on Mallory's request");
            assertEquals(r.code, "wrong_signer");
          } finally {
            await m.session.close();
          }
        },
      );
    } finally {
      await stack.stop();
    }
  },
});
