/**
 * Which registration field differs from the application is said only to someone who
 * also sent the letter's consent phrase (docs/applet.md, "Consent"): without it the
 * answer would be an oracle on an applicant's name, account number and address for
 * anyone who knows an identity. Neither case is counted against the attempts.
 */
import { ApiError } from "../../platform/mod.ts";
import { generateConsentPhrase } from "../../protocol/mod.ts";
import { startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";
import { assertEquals } from "../fixtures/assert.ts";

async function mismatch(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError && e.code === "registration_mismatch") return e;
    throw new Error(`expected registration_mismatch, got ${e}`);
  }
  throw new Error("expected registration_mismatch, got success");
}

Deno.test("consent: the differing field is named only to the holder of the letter's phrase", async () => {
  const stack = await startStack();
  try {
    const web = stack.webClient();
    const carol = await u.makeUser("carol");
    await u.apply(web, carol);
    const phrase = await u.letterPhrase(stack.adminClient(), "carol");
    const other = { ...carol, registration: { ...carol.registration, address: "1 Other St" } };
    const stranger = await mismatch(u.consent(web, other, generateConsentPhrase().text));
    assertEquals(stranger.details?.fields, undefined);
    const holder = await mismatch(u.consent(web, other, phrase));
    assertEquals(holder.details?.fields, ["address"]);
    // Nothing was counted: the right data and phrase still activate.
    const ok = await u.consent(web, carol, phrase);
    assertEquals(typeof ok.certificate, "string");
  } finally {
    await stack.stop();
  }
});
