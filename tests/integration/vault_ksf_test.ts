/**
 * The vault, not the client, sets the Argon2id parameters of OPAQUE's key stretching
 * (issue 15, item 1; DESIGN.md §3; docs/lifecycle.md, "Stretching parameters"). A
 * client that registers with parameters of its own choosing — weaker ones make every
 * stored OPAQUE record cheaper to guess at after a vault breach, absurd ones lock the
 * owner out — is refused at `apply` and at `reregister` (`ksf_mismatch`), nothing is
 * stored, and `register.start` names the vault's parameters inside its signed statement,
 * so a relaying web server cannot lower them for the applet.
 *
 * The stack's vault is configured with the tests' light setting (LIGHT_KSF); the
 * attacker's client uses a weaker one.
 */
import * as opaque from "@serenity-kit/opaque";
import { assertEquals, assertOk, codeOf } from "../fixtures/assert.ts";
import { startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";
import type { KeyRecordV1, ProxyClient } from "../../platform/mod.ts";
import { b64uDecode, b64uEncode, vaultStatementBytes } from "../../protocol/mod.ts";
import { sha256 } from "../../protocol/mod.ts";

/** Weaker than the vault's setting: 8 KiB, one pass (what a hostile client would pick). */
const WEAK = { memory: 8, iterations: 1, parallelism: 1 } as const;

async function startedKsf(web: ProxyClient, user: u.TestUser) {
  const start = await u.loginStartRequest(user);
  const r = await web.call("login.start", {
    identity: user.registration.identity,
    startLoginRequest: start.startLoginRequest,
  }, { clientAddress: user.address }) as { ksf: KeyRecordV1["kdf"] };
  return r.ksf.params;
}

Deno.test({
  name: "the vault sets the stretching parameters: a client's own choice is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({});
    const web = stack.webClient();
    const admin = stack.adminClient();
    try {
      await t.step(
        "register.start names the vault's parameters in its signed statement",
        async () => {
          await opaque.ready;
          const identity = "ksfsigned";
          const start = opaque.client.startRegistration({ password: "a pass phrase of ksfsigned" });
          const binding = b64uEncode(crypto.getRandomValues(new Uint8Array(32)));
          const r = await web.call("register.start", {
            identity,
            registrationRequest: start.registrationRequest,
            binding,
          }, { clientAddress: "198.51.100.77" }) as {
            registrationResponse: string;
            vaultSignature: string;
            ksf: KeyRecordV1["kdf"]["params"];
          };
          assertEquals(r.ksf, { ...u.LIGHT_KSF }, "the vault's configured parameters");
          const anchors = await stack.anchors();
          const key = await crypto.subtle.importKey(
            "spki",
            b64uDecode(anchors.vaultSigningSpki) as Uint8Array<ArrayBuffer>,
            { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
            false,
            ["verify"],
          );
          const statement = {
            kind: "register.start" as const,
            identity,
            requestSha256: b64uEncode(await sha256(b64uDecode(start.registrationRequest))),
            registrationResponse: r.registrationResponse,
            binding,
            ksf: r.ksf,
          };
          const verifies = (s: typeof statement) =>
            crypto.subtle.verify(
              "RSASSA-PKCS1-v1_5",
              key,
              b64uDecode(r.vaultSignature) as Uint8Array<ArrayBuffer>,
              vaultStatementBytes(s) as Uint8Array<ArrayBuffer>,
            );
          assertOk(await verifies(statement), "the vault signs the parameters");
          assertOk(
            !(await verifies({ ...statement, ksf: { ...WEAK } })),
            "a relay's lowered parameters do not verify",
          );
        },
      );

      await t.step("apply with the client's own, weaker parameters: ksf_mismatch", async () => {
        const mallory = await u.makeUser("ksfweak", { ksf: WEAK });
        assertEquals(await codeOf(u.apply(web, mallory)), "ksf_mismatch");
        const { letters } = await admin.call("admin.letters", {}) as {
          letters: { identity: string }[];
        };
        assertOk(!letters.some((l) => l.identity === "ksfweak"), "no letter queued");
        assertEquals(
          await codeOf(web.call("application.get", { identity: "ksfweak" }, {
            clientAddress: mallory.address,
          })),
          "unknown_identity",
        );
      });

      await t.step("reregister with the client's own parameters: ksf_mismatch", async () => {
        const alice = await u.makeUser("ksfalice");
        await u.apply(web, alice);
        await u.consent(web, alice, await u.letterPhrase(admin, "ksfalice"));
        const next = await u.makeUser("ksfalice", {
          ksf: WEAK,
          password: "a new pass phrase for ksfalice",
          address: alice.address,
        });
        const body = await u.reregisterBody(web, alice, next);
        assertEquals(
          await codeOf(web.call("reregister", body, { clientAddress: alice.address })),
          "ksf_mismatch",
        );
        assertEquals(await startedKsf(web, alice), { ...u.LIGHT_KSF }, "still the vault's");
        const again = await u.login(web, alice);
        assertOk(again.ok, "the owner still signs in with the current pass phrase");
      });
    } finally {
      await stack.stop();
    }
  },
});
