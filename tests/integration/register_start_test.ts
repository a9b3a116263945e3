/**
 * `register.start` is no OPRF oracle for existing identities (issue 15 item 6,
 * docs/rate-limits.md): for an active identity it answers only with a fresh
 * re-authentication of that identity (the re-registration path), never to whoever
 * claims it; for a revoked identity never. Refusals are audited, and the operation
 * has the sign-in limits (class `register`: the `login` numbers without the backoff). Real proxy and vault on PGlite.
 */
import * as opaque from "@serenity-kit/opaque";
import { assertEquals, assertOk, codeOf } from "../fixtures/assert.ts";
import { startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";
import { opSpec, RATE_CLASSES } from "../../platform/mod.ts";

Deno.test({
  name: "register.start answers for an existing identity only with a fresh re-authentication",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await opaque.ready;
    const stack = await startStack();
    const web = stack.webClient();
    const admin = stack.adminClient();
    const opts = { clientAddress: "198.51.100.61" };
    const start = (identity: string, extra: Record<string, unknown> = {}) =>
      web.call("register.start", {
        identity,
        registrationRequest: opaque.client.startRegistration({ password: "a guess" })
          .registrationRequest,
        ...extra,
      }, opts);
    try {
      const alice = await u.makeUser("rsalice");
      await u.apply(web, alice);
      await u.consent(web, alice, await u.letterPhrase(admin, "rsalice"));

      await t.step("an active identity: a stranger's register.start is refused", async () => {
        assertEquals(await codeOf(start("rsalice")), "identity_taken");
        const { entries } = await admin.call("admin.audit", { identity: "rsalice" }) as {
          entries: { op: string; outcome: string; details: { code?: string } }[];
        };
        assertOk(
          entries.some((e) =>
            e.op === "register.start" && e.outcome === "refused" &&
            e.details.code === "identity_taken"
          ),
          "the refusal is audited",
        );
      });

      await t.step(
        "with a proof that is not a fresh re-authentication: reauth_required",
        async () => {
          assertEquals(
            await codeOf(start("rsalice", { reauthLoginId: "A".repeat(22) })),
            "reauth_required",
          );
        },
      );

      await t.step("with a fresh re-authentication of that identity it answers", async () => {
        const proof = await u.reauthProof(web, alice);
        const r = await start("rsalice", { reauthLoginId: proof }) as {
          registrationResponse?: string;
        };
        assertOk(typeof r.registrationResponse === "string");
      });

      await t.step("a new identity still gets an answer (apply)", async () => {
        const r = await start("rsnobody") as { registrationResponse?: string };
        assertOk(typeof r.registrationResponse === "string");
      });

      await t.step("a revoked identity: refused", async () => {
        const proof = await u.reauthProof(web, alice);
        await web.call("revoke", await u.revokeBody(alice, { reauthLoginId: proof }), opts);
        assertEquals(await codeOf(start("rsalice")), "identity_taken");
      });

      await t.step("it is limited as a sign-in is", () => {
        const spec = opSpec("register.start")!;
        assertEquals(spec.rateClass, "register");
        assertEquals(RATE_CLASSES.register.perAddress, RATE_CLASSES.login.perAddress);
        assertEquals(RATE_CLASSES.register.perIdentity, RATE_CLASSES.login.perIdentity);
      });
    } finally {
      await stack.stop();
    }
  },
});
