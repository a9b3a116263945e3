/// <reference lib="dom" />
/**
 * Passkey steps shared by the passkey browser test and its measurement
 * (`tests/e2e/measure_passkeys.ts`): the DevTools protocol's virtual authenticator
 * (`WebAuthn.addVirtualAuthenticator`: ctap2, internal, resident keys, user
 * verification, `hasPrf`), and "Add a passkey" in the Account section.
 *
 * A virtual authenticator belongs to the tab it was added to: another page of the same
 * context does not see it, and a credential copied into another authenticator with
 * `WebAuthn.addCredential` loses its PRF secret (CDP's `Credential` has no field for
 * it), so that authenticator answers without a PRF output.
 *
 * @module
 */
import type { CDPSession, Page } from "playwright-core";
import { outcome } from "./_applet.ts";

/** Adds an authenticator to `cdp`'s tab (after `WebAuthn.enable`); returns its id. */
export async function addAuthenticator(cdp: CDPSession, hasPrf: boolean): Promise<string> {
  const r = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      hasPrf,
      automaticPresenceSimulation: true,
    },
  });
  return r.authenticatorId;
}

/** "Add a passkey" while signed in; returns the alert text, or null on success. */
export async function addPasskeyInPage(
  page: Page,
  name: string,
  pass: string,
): Promise<string | null> {
  const form = page.getByRole("form", { name: "Add a passkey" });
  await form.getByLabel("Passkey name", { exact: true }).fill(name);
  await form.getByLabel("Current pass phrase", { exact: true }).fill(pass);
  await form.getByRole("button", { name: "Add a passkey", exact: true }).click();
  return await outcome(page, /Passkey “.*” added/);
}

/** "Sign in with a passkey" with the identity field as given (empty: a discoverable credential). */
export async function signInWithPasskeyInPage(page: Page, identity = ""): Promise<string | null> {
  // A person on the sign-in view (the applet's first) with the field as wanted clicks
  // neither the tab nor the field: one look instead of two actions' round trips.
  const [onSignIn, current] = await page.evaluate(() => [
    document.querySelector('[role="tab"][aria-selected="true"]')?.id === "tab-signin",
    (document.getElementById("identity") as HTMLInputElement | null)?.value ?? null,
  ]);
  if (!onSignIn) await page.getByRole("tab", { name: "Sign in" }).click();
  if (current !== identity) await page.getByLabel("Identity", { exact: true }).fill(identity);
  await page.getByRole("button", { name: "Sign in with a passkey", exact: true }).click();
  return await outcome(page, /Signed in as/);
}
