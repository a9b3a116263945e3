/// <reference lib="dom" />
/**
 * The applet as a product (issue 16), in Debian Chromium against real processes
 * (PGlite): the views and their fragments, tabs by keyboard, errors next to the form
 * that was used with the field marked and focused, consent prefilled and precise,
 * the signed-in header, "Copy signature" and the verification recipe, the revoke
 * dialog, leaving (beforeunload, reload), the idle warning, an axe-core scan of every
 * view (no serious or critical violation), and no horizontal scroll at 360 × 740.
 *
 * Screenshots of every view at 1280 and 360 px wide are saved under
 * `tests/artifacts/screens/` (gitignored) for a reviewer to look at.
 */
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";
import axe from "axe-core";
import type { BrowserContext, Page } from "playwright-core";
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch } from "../fixtures/browser.ts";
import { startStack } from "../../harness/mod.ts";
import {
  applyInPage,
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  signInInPage,
  signInPageMessage,
} from "./_applet.ts";

const _SHOTS = new URL("../artifacts/screens/", import.meta.url).pathname;

/** axe-core's serious and critical violations on the page as it is now. */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) {
    await page.addScriptTag({ content: axe.source });
  }
  const found = await page.evaluate(async () => {
    const a = (globalThis as unknown as {
      axe: {
        run(ctx: unknown, o: unknown): Promise<{
          violations: { id: string; impact: string; nodes: { target: string[] }[] }[];
        }>;
      };
    }).axe;
    const r = await a.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 3),
    }));
  });
  return found
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.targets.join(", ")}`);
}

/** Saves a full-page screenshot as `<name>-<width>.png`. */
async function shot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(_SHOTS, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: `${_SHOTS}${name}-${width}.png`, fullPage: true });
}

/** The page's horizontal overflow in CSS pixels (0 = no horizontal scroll). */
function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
}

/** Every view checked the same way: axe, no horizontal scroll at 360 px, screenshots. */
async function checkView(
  wide: Page,
  narrow: Page,
  name: string,
): Promise<void> {
  assertEquals(await axeViolations(wide), [], `${name}: axe`);
  await shot(wide, name);
  assertEquals(await overflow(narrow), 0, `${name}: horizontal scroll at 360 px`);
  await shot(narrow, name);
}

/** Both pages on the same view (the narrow one follows the wide one's fragment). */
async function bothOn(
  pages: Page[],
  act: (p: Page) => Promise<void>,
): Promise<void> {
  for (const p of pages) await act(p);
}

async function newPage(context: BrowserContext, width: number, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
  assertEquals(await openApplet(page, url), "ready");
  return page;
}

Deno.test({
  name: "[slow] the applet as a product: views, errors, focus, dialog, leaving, a11y, 360 px",
  ignore: !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ host: true, ksf: KSF_DEFAULT });
    const browser = await launch();
    const url = stack.webUrl!.replace("127.0.0.1", "localhost");
    try {
      // axe is injected as a script: this context lets it past the page's CSP. The
      // applet's own CSP is checked by the journey and negative tests.
      const context = await browser.newContext({ bypassCSP: true });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url });
      const wide = await newPage(context, 1280, url);
      const narrow = await newPage(context, 360, url);
      const user = newUser("ui");
      const pass = newPassphrase();

      await t.step(
        "first view: the flow explained, the Sign in tab, rules before typing",
        async () => {
          assertEquals(
            await wide.getByRole("tab", { name: "Sign in" }).getAttribute("aria-selected"),
            "true",
          );
          assertOk(new URL(wide.url()).hash === "#sign-in", wide.url());
          const steps = await wide.getByRole("list", { name: "How it works" }).textContent();
          assertOk(/Apply.*Letter.*Consent.*Sign in/s.test(steps ?? ""), String(steps));
          await bothOn([wide, narrow], (p) => p.getByRole("tab", { name: "Sign in" }).click());
          await checkView(wide, narrow, "sign-in");
        },
      );

      await t.step(
        "tabs: arrow keys, roving tabindex, fragment; a bookmark opens the view",
        async () => {
          await wide.getByRole("tab", { name: "Sign in" }).focus();
          await wide.keyboard.press("ArrowLeft");
          const consent = wide.getByRole("tab", { name: "Consent letter" });
          assertEquals(await consent.getAttribute("aria-selected"), "true");
          assertEquals(await consent.getAttribute("tabindex"), "0");
          assertEquals(
            await wide.getByRole("tab", { name: "Sign in" }).getAttribute("tabindex"),
            "-1",
          );
          assertEquals(await wide.evaluate(() => document.activeElement?.id), "tab-consent");
          assertOk(wide.url().endsWith("#consent"), wide.url());
          await wide.keyboard.press("Home");
          assertEquals(await wide.evaluate(() => document.activeElement?.id), "tab-register");
          await wide.keyboard.press("End");
          assertEquals(await wide.evaluate(() => document.activeElement?.id), "tab-signin");
          await narrow.goto(`${url}#consent`);
          await narrow.waitForFunction(() => document.documentElement.dataset.applet === "ready");
          assertEquals(
            await narrow.getByRole("tab", { name: "Consent letter" }).getAttribute("aria-selected"),
            "true",
          );
          await wide.getByRole("tab", { name: "Consent letter" }).click();
          await checkView(wide, narrow, "consent");
          await bothOn(
            [wide, narrow],
            (p) => p.getByRole("tab", { name: "New registration" }).click(),
          );
          const identity = wide.getByLabel("Identity", { exact: true });
          assertEquals(await identity.getAttribute("maxlength"), "64");
          const described = (await identity.getAttribute("aria-describedby")) ?? "";
          const hint = await wide.locator(`#${described.split(" ")[0]}`).textContent();
          assertOk(/lower-case letters/.test(hint ?? ""), String(hint));
          await checkView(wide, narrow, "new-registration");
        },
      );

      await t.step(
        "an empty sign-in names the identity: field marked, focused, plain words",
        async () => {
          await wide.getByRole("tab", { name: "Sign in" }).click();
          await wide.getByRole("button", { name: "Sign in", exact: true }).click();
          const alert = wide.getByRole("alert");
          assertEquals((await alert.textContent())?.trim(), "Type your identity.");
          const identity = wide.getByLabel("Identity", { exact: true });
          assertEquals(await identity.getAttribute("aria-invalid"), "true");
          assertEquals(await wide.evaluate(() => document.activeElement?.id), "identity");
          assertEquals((await wide.getByRole("status").textContent())?.trim(), "");
          // The alert sits right after the form, not at the top of the page.
          const below = await wide.evaluate(() => {
            const f = document.querySelector('form[aria-label="Sign in"]')!;
            const a = document.getElementById("error")!;
            return Boolean(f.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING);
          });
          assertOk(below, "the alert follows the form");
        },
      );

      await t.step(
        "apply; consent is prefilled; a wrong field and a wrong phrase are precise",
        async () => {
          assertEquals(await applyInPage(wide, user, pass), null);
          assertEquals(
            await wide.getByRole("tab", { name: "Consent letter" }).getAttribute("aria-selected"),
            "true",
          );
          assertEquals(
            await wide.getByLabel("Identity", { exact: true }).inputValue(),
            user.identity,
          );
          assertEquals(
            await wide.getByLabel("Address", { exact: true }).inputValue(),
            user.address,
          );
          const phrase = await consentPhraseFor(stack, user.identity);
          // A wrong address with the letter's phrase: the vault says which field differs.
          await wide.getByLabel("Address", { exact: true }).fill(`${user.address} (moved)`);
          await wide.getByLabel("Consent phrase", { exact: true }).fill(phrase);
          await wide.getByRole("button", { name: "Give consent", exact: true }).click();
          const alert = wide.getByRole("alert");
          await alert.filter({ hasText: /\S/ }).waitFor();
          assertEquals(
            (await alert.textContent())?.trim(),
            "Address differs from your application: type it exactly as you applied.",
          );
          assertEquals(
            await wide.getByLabel("Address", { exact: true }).getAttribute("aria-invalid"),
            "true",
          );
          assertOk(!/registration:/.test((await alert.textContent()) ?? ""));
          await wide.getByLabel("Address", { exact: true }).fill(user.address);
          await wide.getByRole("button", { name: "Give consent", exact: true }).click();
          await wide.getByRole("status").filter({ hasText: "Consent accepted" }).waitFor();
          assertEquals(
            await wide.getByLabel("Identity", { exact: true }).inputValue(),
            user.identity,
          );
        },
      );

      await t.step("sign in: header with identity and Sign out; focus on the heading", async () => {
        for (const p of [wide, narrow]) {
          assertEquals(await signInInPage(p, user.identity, pass), null);
        }
        assertEquals(await wide.locator("#signed-in-as").textContent(), user.identity);
        assertEquals(await wide.evaluate(() => document.activeElement?.id), "signed-in-title");
        assertOk(wide.url().endsWith("#signed-in"), wide.url());
        await checkView(wide, narrow, "signed-in");
      });

      await t.step(
        "sign: counter, Copy signature, certificate link, a recipe with the CRL",
        async () => {
          await wide.getByLabel("Message", { exact: true }).fill("pay 5 to Bob");
          assertOk(
            /characters left/.test((await wide.locator("#message-room").textContent()) ?? ""),
          );
          const sig = await signInPageMessage(wide, "pay 5 to Bob");
          await narrow.getByLabel("Message", { exact: true }).fill("pay 5 to Bob");
          await signInPageMessage(narrow, "pay 5 to Bob");
          const region = wide.getByRole("region", { name: "Signature" });
          await region.getByRole("button", { name: "Copy signature" }).click();
          assertEquals(await wide.evaluate(() => navigator.clipboard.readText()), sig);
          const link = region.getByRole("link", { name: "your certificate" });
          assertEquals(
            await link.getAttribute("href"),
            `/directory/${encodeURIComponent(user.identity)}?format=pem`,
          );
          const recipe = (await region.locator("#verify-openssl").textContent()) ?? "";
          assertOk(
            /openssl verify -crl_check -CAfile ca\.pem -CRLfile crl\.pem/.test(recipe),
            recipe,
          );
          assertOk(
            /deno task verify/.test((await region.locator("#verify-deno").textContent()) ?? ""),
          );
          await checkView(wide, narrow, "signed");
          // Dark mode (prefers-color-scheme): axe's contrast check there too.
          await wide.emulateMedia({ colorScheme: "dark" });
          assertEquals(await axeViolations(wide), [], "signed, dark: axe");
          await shot(wide, "signed-dark");
          await wide.emulateMedia({ colorScheme: "light" });
        },
      );

      await t.step(
        "a bank refusal shows next to the form, in view, and ends the status",
        async () => {
          await wide.getByLabel("Payee account", { exact: true }).fill("40-00-00 9");
          await wide.getByLabel("Amount", { exact: true }).fill("999999999");
          await wide.getByRole("button", { name: "Send to bank", exact: true }).click();
          const alert = wide.getByRole("alert");
          await alert.filter({ hasText: /\S/ }).waitFor({ timeout: 60_000 });
          const said = (await alert.textContent()) ?? "";
          assertOk(/balance does not cover/.test(said), said);
          assertEquals((await wide.getByRole("status").textContent())?.trim(), "");
          const inView = await alert.evaluate((a) => {
            const r = a.getBoundingClientRect();
            return r.top >= 0 && r.bottom <= innerHeight;
          });
          assertOk(inView, "the bank's refusal is in the viewport");
        },
      );

      await t.step(
        "revoke dialog: modal, focus on Cancel, Escape closes, destructive confirm",
        async () => {
          await wide.getByRole("button", { name: "Revoke key", exact: true }).click();
          const dialog = wide.getByRole("alertdialog", { name: "Revoke your key?" });
          await dialog.waitFor();
          assertEquals(await wide.evaluate(() => document.activeElement?.textContent), "Cancel");
          assertOk(
            /danger/.test(
              (await dialog.getByRole("button", { name: "Yes, revoke my key" }).getAttribute(
                "class",
              )) ?? "",
            ),
          );
          assertEquals(await axeViolations(wide), [], "revoke dialog: axe");
          await shot(wide, "revoke-dialog");
          await wide.keyboard.press("Escape");
          assertEquals(await dialog.count(), 0);
          assertEquals(
            await wide.evaluate(() => document.activeElement?.textContent),
            "Revoke key",
          );
        },
      );

      await t.step(
        "leaving: a warning while a form holds input; a reload says why it signed out",
        async () => {
          await wide.getByLabel("Message", { exact: true }).fill("half-typed");
          let asked = false;
          wide.once("dialog", (d) => {
            asked = d.type() === "beforeunload";
            void d.accept();
          });
          await wide.reload();
          await wide.waitForFunction(() => document.documentElement.dataset.applet === "ready");
          assertOk(asked, "beforeunload asked first");
          const status = (await wide.getByRole("status").textContent()) ?? "";
          assertOk(/reloading wipes the key from this page/.test(status), status);
          assertEquals(
            await wide.getByRole("tab", { name: "Sign in" }).getAttribute("aria-selected"),
            "true",
          );
        },
      );

      await t.step(
        "idle: a warning a minute before, and Stay signed in keeps the session",
        async () => {
          const ctx = await browser.newContext();
          await ctx.clock.install();
          const p = await ctx.newPage();
          assertEquals(await openApplet(p, url), "ready");
          assertEquals(await signInInPage(p, user.identity, pass), null);
          await p.clock.fastForward("09:01");
          const stay = p.getByRole("button", { name: "Stay signed in" });
          await stay.waitFor();
          await stay.click();
          await p.clock.fastForward("02:00");
          assertEquals(await p.getByRole("button", { name: "Sign out", exact: true }).count(), 1);
          await p.clock.fastForward("07:01"); // 9:01 after "Stay signed in"
          await stay.waitFor();
          await p.clock.fastForward("01:00");
          await p.getByRole("status").filter({ hasText: "idle" }).waitFor();
          await ctx.close();
        },
      );
    } finally {
      await browser.close();
      await stack.stop();
    }
  },
});
