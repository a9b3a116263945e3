/// <reference lib="dom" />
/**
 * The pass-phrase policy in Chromium (issue 15, item 2; docs/passphrase.md), against real
 * processes: the strength bundle is not fetched by the first page load, only when a new
 * pass phrase is typed; a weak phrase of 12+ characters is refused in the page with the
 * reason next to the field and nothing sent; a suggested phrase (six EFF words) is
 * accepted and the application goes through to sign-in; re-registration applies the
 * same policy.
 */
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { startStack } from "../../harness/mod.ts";
import type { Manifest } from "../../server/mod.ts";
import {
  consentInPage,
  consentPhraseFor,
  fillRegistration,
  newPassphrase,
  newUser,
  openApplet,
  outcome,
  signInInPage,
} from "./_applet.ts";

const WORDS = new Set(
  (await Deno.readTextFile(
    new URL("../../applet/passphrase/eff_large_wordlist.txt", import.meta.url),
  )).trimEnd().split("\n").map((l) => l.split("\t")[1]),
);

/** Proxy log lines for the operations a new pass phrase would start (nothing else sends it). */
function sentOps(lines: string[]): number {
  return lines.filter((l) => /"op":"(register\.start|apply|reauth\.start|login\.start)"/.test(l))
    .length;
}

Deno.test({
  name: "[slow] pass-phrase policy: lazy strength bundle, weak phrase refused, suggestion accepted",
  ignore: !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ web: true, ksf: KSF_DEFAULT });
    const web = stack.webUrl!;
    const browser = await launch();
    try {
      const manifest: Manifest = await (await fetch(`${web}/.well-known/roamsign/manifest.json`))
        .json();
      const strength = manifest.entries.strength;
      assertOk(/^\/applet\/[0-9a-f]{64}\.js$/.test(strength), strength);
      const context = await browser.newContext();
      const requests: string[] = [];
      context.on("request", (r) => requests.push(new URL(r.url()).pathname));
      const { page, violations } = await pageWithCspRecorder(context);
      const user = newUser("pp");

      await t.step("the first page load does not fetch the strength bundle", async () => {
        assertEquals(await openApplet(page, web), "ready");
        await page.waitForLoadState("networkidle");
        assertOk(requests.includes(manifest.entries.worker), "the recorder sees the worker");
        assertOk(!requests.includes(strength), `fetched at load: ${requests.join(" ")}`);
        await page.getByRole("tab", { name: "New registration" }).click();
        await fillRegistration(page, user); // other fields do not load it either
        await page.getByLabel("Confirm pass phrase", { exact: true }).fill("x");
        await page.waitForTimeout(500);
        assertOk(!requests.includes(strength), "fetched before a new pass phrase was typed");
      });

      const field = page.getByLabel("Pass phrase", { exact: true });
      const describedBy = (await field.getAttribute("aria-describedby")) ?? "";
      assertOk(describedBy.split(" ").includes("passphrase-strength"), describedBy);
      const message = page.locator("#passphrase-strength");

      await t.step("typing a new pass phrase fetches it; a short one is told why", async () => {
        const fetched = page.waitForRequest((r) => new URL(r.url()).pathname === strength);
        await field.pressSequentially("Tr0ub4dor&3", { delay: 0 }); // 11 characters
        await fetched;
        await message.filter({ hasText: "at least 12 characters (this one has 11)" }).waitFor();
      });

      await t.step(
        "a weak 12+ character phrase is refused with a reason; nothing sent",
        async () => {
          await field.fill("");
          await field.pressSequentially("passwordpassword", { delay: 0 });
          await message.filter({ hasText: "Too easy to guess" }).waitFor();
          const confirm = page.getByLabel("Confirm pass phrase", { exact: true });
          await confirm.fill("");
          await confirm.pressSequentially("passwordpassword", { delay: 0 });
          const before = sentOps(stack.proxy.lines);
          const rpcBefore = requests.filter((p) => p.startsWith("/api/")).length;
          await page.getByRole("button", { name: "Apply to register", exact: true }).click();
          const err = await outcome(page, /Application received/);
          assertOk(err && /^Choose a stronger pass phrase\. .*Too easy to guess/.test(err), err!);
          assertEquals(await page.getByRole("alert").getAttribute("data-code"), "weak_passphrase");
          assertEquals(await field.getAttribute("aria-invalid"), "true");
          assertOk(/Too easy to guess/.test((await message.textContent()) ?? ""), "reason shown");
          assertEquals(await field.inputValue(), "", "the field is wiped");
          assertEquals(requests.filter((p) => p.startsWith("/api/")).length, rpcBefore, "sent");
          assertEquals(sentOps(stack.proxy.lines), before, "a request reached the proxy");
        },
      );

      let suggested = "";
      await t.step("a suggested phrase is six EFF words, accepted; the apply goes on", async () => {
        await page.evaluate(() => (document.getElementById("error")!.textContent = ""));
        await page.getByRole("button", { name: "Suggest a pass phrase", exact: true }).click();
        await message.filter({ hasText: "Suggested: six random words" }).waitFor();
        assertEquals(await field.getAttribute("type"), "text", "shown so it can be noted");
        assertEquals(await field.getAttribute("aria-invalid"), null);
        suggested = await field.inputValue();
        const words = suggested.split(" ");
        assertEquals(words.length, 6, suggested);
        for (const w of words) assertOk(WORDS.has(w), `${w} is not an EFF word`);
        await page.getByLabel("Confirm pass phrase", { exact: true }).pressSequentially(suggested, {
          delay: 0,
        });
        await page.getByRole("button", { name: "Apply to register", exact: true }).click();
        assertEquals(await outcome(page, /Application received/), null);
        assertEquals(
          await consentInPage(page, user, await consentPhraseFor(stack, user.identity)),
          null,
        );
        assertEquals(await signInInPage(page, user.identity, suggested), null);
      });

      await t.step("re-registration applies the same policy before re-authenticating", async () => {
        const form = page.getByRole("form", { name: "Re-register" });
        await form.getByLabel("Current pass phrase", { exact: true }).fill(suggested);
        const fresh = form.getByLabel("New pass phrase", { exact: true });
        assertOk(
          ((await fresh.getAttribute("aria-describedby")) ?? "").includes(
            "new-passphrase-strength",
          ),
        );
        await fresh.fill("passwordpassword");
        await form.getByLabel("Confirm new pass phrase", { exact: true }).fill("passwordpassword");
        const before = sentOps(stack.proxy.lines);
        await form.getByRole("button", { name: "Re-register", exact: true }).click();
        const err = await outcome(page, /Re-registered/);
        assertOk(err && /Choose a stronger pass phrase/.test(err), String(err));
        assertEquals(await fresh.getAttribute("aria-invalid"), "true");
        assertEquals(sentOps(stack.proxy.lines), before, "re-authentication started");
        // A strong one goes through.
        await page.evaluate(() => (document.getElementById("error")!.textContent = ""));
        const next = newPassphrase();
        await form.getByLabel("Current pass phrase", { exact: true }).fill(suggested);
        await fresh.fill(next);
        await form.getByLabel("Confirm new pass phrase", { exact: true }).fill(next);
        await form.getByRole("button", { name: "Re-register", exact: true }).click();
        assertEquals(await outcome(page, /Re-registered/), null);
      });

      assertEquals(await violations(), [], "CSP or Trusted Types violations");

      await t.step(
        "a strength bundle changed on disk: its SRI check stops it; no new pass phrase is taken",
        async () => {
          const file = `${stack.dataDir}/dist${strength}`;
          const original = await Deno.readFile(file);
          await Deno.writeFile(file, new Uint8Array([...original, 0x0a])); // still valid JS
          try {
            const other = await (await browser.newContext()).newPage(); // an empty cache
            assertEquals(await openApplet(other, web), "ready", "the signing worker is intact");
            await other.getByRole("tab", { name: "New registration" }).click();
            await fillRegistration(other, newUser("pt"));
            const pass = newPassphrase();
            const f = other.getByLabel("Pass phrase", { exact: true });
            await f.pressSequentially(pass, { delay: 0 });
            await other.locator("#passphrase-strength")
              .filter({ hasText: "could not be loaded" }).waitFor();
            await other.getByLabel("Confirm pass phrase", { exact: true }).fill(pass);
            const before = sentOps(stack.proxy.lines);
            await other.getByRole("button", { name: "Apply to register", exact: true }).click();
            const err = await outcome(other, /Application received/);
            assertOk(err, "a new pass phrase was taken without the strength check");
            assertEquals(
              await other.getByRole("alert").getAttribute("data-code"),
              "applet_tampered",
              err,
            );
            assertEquals(sentOps(stack.proxy.lines), before, "a request reached the proxy");
          } finally {
            await Deno.writeFile(file, original);
          }
        },
      );
    } finally {
      await browser.close();
      await stack.stop();
    }
  },
});
