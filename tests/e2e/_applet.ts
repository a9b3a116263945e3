/// <reference lib="dom" />
/**
 * What a person does in the applet, as Playwright steps that address the page
 * only by the accessible names issue 5 fixes (plus the tabs), and what an
 * operator does with `deno task admin`.
 *
 * @module
 */
import type { Locator, Page } from "playwright-core";
import type { Registration } from "../../protocol/mod.ts";

const _ROOT = new URL("../../", import.meta.url).pathname;

/** A fresh identity and registration data for one test. */
export function newUser(prefix = "u"): Registration {
  const tag = Array.from(
    crypto.getRandomValues(new Uint8Array(5)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return {
    identity: `${prefix}${tag}`,
    fullName: `Test Person ${tag}`,
    accountNumber: `40-${tag.slice(0, 6)}`,
    address: `${parseInt(tag.slice(0, 2), 16)} Example Road, Hursley`,
  };
}

/** A distinctive pass phrase (so a heap snapshot search cannot match by accident). */
export function newPassphrase(): string {
  const tag = Array.from(
    crypto.getRandomValues(new Uint8Array(8)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return `correct horse battery ${tag}`;
}

/** Waits until the applet page reports ready (worker verified and started) or failed. */
export async function openApplet(page: Page, url: string): Promise<"ready" | "failed"> {
  await page.goto(url);
  await page.waitForFunction(
    () => {
      const s = document.documentElement.dataset.applet;
      return s === "ready" || s === "failed";
    },
    undefined,
    { timeout: 60_000 },
  );
  return await page.evaluate(() => document.documentElement.dataset.applet) as "ready" | "failed";
}

/** Types text key by key, as a person would (no full string injected into the page). */
async function type(page: Page | Locator, label: string, text: string): Promise<void> {
  const input = page.getByLabel(label, { exact: true });
  await input.click();
  await input.pressSequentially(text, { delay: 0 });
}

/** Fills the four registration fields. */
export async function fillRegistration(page: Page, r: Registration): Promise<void> {
  await page.getByLabel("Identity", { exact: true }).fill(r.identity);
  await page.getByLabel("Full name", { exact: true }).fill(r.fullName);
  await page.getByLabel("Account number", { exact: true }).fill(r.accountNumber);
  await page.getByLabel("Address", { exact: true }).fill(r.address);
}

/** Waits for either a status text or an alert; returns the alert text if one appeared. */
export async function outcome(
  page: Page,
  status: RegExp,
  timeout = 120_000,
): Promise<string | null> {
  // One in-page wait that also reads the result: each locator call is a CDP round trip
  // (10–30 ms here), which the measurements (`measure*.ts`) would count as the applet's
  // time. Retried until the deadline when the wait itself fails (a navigation in between).
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const found = await page.waitForFunction(
      ([src]) => {
        const re = new RegExp(src as string);
        const a = document.querySelector('[role="alert"]')?.textContent?.trim();
        const s = document.querySelector('[role="status"]')?.textContent ?? "";
        return a ? { alert: a } : re.test(s) ? { alert: null } : false;
      },
      [status.source],
      { timeout: Math.max(1, deadline - Date.now()) },
    ).then((h) => h.jsonValue() as Promise<{ alert: string | null }>).catch(() => undefined);
    if (found) return found.alert;
  }
  throw new Error(`neither ${status} nor an alert within ${timeout} ms`);
}

/** Apply to register in the page. Returns the alert text, or null on success. */
export async function applyInPage(
  page: Page,
  r: Registration,
  passphrase: string,
  bits = 2048,
): Promise<string | null> {
  await page.getByRole("tab", { name: "New registration" }).click();
  await fillRegistration(page, r);
  await type(page, "Pass phrase", passphrase);
  await type(page, "Confirm pass phrase", passphrase);
  await page.getByLabel("Key size", { exact: true }).selectOption(String(bits));
  await page.getByRole("button", { name: "Apply to register", exact: true }).click();
  return await outcome(page, /Application received/);
}

/** Give consent in the page. */
export async function consentInPage(
  page: Page,
  r: Registration,
  phrase: string,
): Promise<string | null> {
  await page.getByRole("tab", { name: "Consent letter" }).click();
  await fillRegistration(page, r);
  await page.getByLabel("Consent phrase", { exact: true }).fill(phrase);
  await page.getByRole("button", { name: "Give consent", exact: true }).click();
  return await outcome(page, /Consent accepted/);
}

/** Sign in in the page. */
export async function signInInPage(
  page: Page,
  identity: string,
  passphrase: string,
): Promise<string | null> {
  await page.getByRole("tab", { name: "Sign in" }).click();
  await page.getByLabel("Identity", { exact: true }).fill(identity);
  await type(page, "Pass phrase", passphrase);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  return await outcome(page, /Signed in as/);
}

/** Sign a message in the page; returns the base64 signature shown. */
export async function signInPageMessage(page: Page, message: string): Promise<string> {
  await page.getByLabel("Message", { exact: true }).fill(message);
  await page.getByRole("button", { name: "Sign message", exact: true }).click();
  const err = await outcome(page, /Message signed/);
  if (err) throw new Error(`signing failed: ${err}`);
  const region = page.getByRole("region", { name: "Signature" });
  return ((await region.locator("pre").textContent()) ?? "").trim();
}

/** Runs `deno task admin …` against a stack; returns stdout. */
export async function admin(
  env: { dataDir: string; proxyUrl: string },
  ...args: string[]
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "admin", ...args],
    cwd: _ROOT,
    env: { DATA_DIR: env.dataDir, PROXY_URL: env.proxyUrl, LOG_LEVEL: "warn" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`admin ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return stdout;
}

/** The consent phrase of the newest letter for `identity`, read with `admin letters --json`. */
export async function consentPhraseFor(
  env: { dataDir: string; proxyUrl: string },
  identity: string,
): Promise<string> {
  const letters = JSON.parse(await admin(env, "letters", "--json"));
  const list = (Array.isArray(letters) ? letters : letters.letters) as Record<string, unknown>[];
  const mine = list.filter((l) => l.identity === identity);
  const last = mine[mine.length - 1];
  const phrase = last?.phrase ?? last?.consentPhrase;
  if (typeof phrase !== "string") throw new Error(`no consent letter for ${identity}`);
  return phrase;
}

/** Sends a debit instruction to the bank in the page; returns the alert text, or null on success. */
export async function sendToBankInPage(
  page: Page,
  debit: { to: string; amount: string; reference: string },
): Promise<string | null> {
  await page.getByLabel("Payee account", { exact: true }).fill(debit.to);
  await page.getByLabel("Amount", { exact: true }).fill(debit.amount);
  await page.getByLabel("Reference", { exact: true }).fill(debit.reference);
  await page.getByRole("button", { name: "Send to bank", exact: true }).click();
  return await outcome(page, /Executed by the bank/);
}

/**
 * Re-registers in the page with a (new or the same) pass phrase; `current` is the
 * current pass phrase the form asks for first (docs/lifecycle.md, "Re-authentication").
 */
export async function reregisterInPage(
  page: Page,
  passphrase: string,
  current: string,
  bits = 2048,
): Promise<string | null> {
  const form = page.getByRole("form", { name: "Re-register" });
  await type(form, "Current pass phrase", current);
  await type(form, "New pass phrase", passphrase);
  await type(form, "Confirm new pass phrase", passphrase);
  await form.getByLabel("Key size", { exact: true }).selectOption(String(bits));
  await form.getByRole("button", { name: "Re-register", exact: true }).click();
  return await outcome(page, /Re-registered/);
}

/**
 * Updates the address in the page's `Update registration` form; `current` is the current
 * pass phrase the form asks for (docs/lifecycle.md, "Re-authentication").
 */
export async function updateAddressInPage(
  page: Page,
  address: string,
  current: string,
): Promise<string | null> {
  const form = page.getByRole("form", { name: "Update registration" });
  await form.getByLabel("Address", { exact: true }).fill(address);
  await type(form, "Current pass phrase", current);
  await form.getByRole("button", { name: "Update registration", exact: true }).click();
  return await outcome(page, /Registration updated/);
}

/**
 * Revokes the key in the page: `Revoke key`, then the confirmation with the current
 * pass phrase.
 */
export async function revokeInPage(page: Page, current: string): Promise<string | null> {
  const dialog = page.getByRole("alertdialog", { name: "Revoke your key?" });
  // After a refusal the dialog stays open with the alert in it: type again there.
  if (!(await dialog.isVisible())) {
    await page.getByRole("button", { name: "Revoke key", exact: true }).click();
  }
  await dialog.waitFor();
  await type(dialog, "Current pass phrase", current);
  await dialog.getByRole("button", { name: "Yes, revoke my key", exact: true }).click();
  return await outcome(page, /Your key was revoked/);
}
