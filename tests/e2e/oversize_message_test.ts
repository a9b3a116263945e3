/// <reference lib="dom" />
/**
 * A 300 KB message in the applet (issue 16, "A rejected request never breaks the
 * session"), in Debian Chromium against real processes: the `Message` field shows how
 * much room is left and that it is over, `Sign message` refuses it in the page with
 * `message_too_long` and sends nothing, and the next normal message signs and verifies on
 * the same session. After `Sign out` no old error is left on the page.
 */
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";
import { assert, assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { startStack } from "../../harness/mod.ts";
import { MESSAGE_MAX_BYTES } from "../../protocol/mod.ts";
import {
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  signInInPage,
  signInPageMessage,
} from "./_applet.ts";
import { applyFromDeno, consentFromDeno } from "./_deno_client.ts";

Deno.test({
  name: "[slow] a 300 KB message is refused in the page, and the session signs on",
  ignore: !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ web: true, ksf: KSF_DEFAULT });
    const browser = await launch();
    try {
      const web = stack.webUrl!;
      const user = newUser("big");
      const passphrase = newPassphrase();
      await applyFromDeno(web, user, passphrase);
      await consentFromDeno(web, user, await consentPhraseFor(stack, user.identity));
      const { page, violations } = await pageWithCspRecorder(await browser.newContext());
      let rpcs = 0;
      page.on("request", (r) => {
        if (new URL(r.url()).pathname === "/api/rpc") rpcs++;
      });
      assertEquals(await openApplet(page, web), "ready");
      assertEquals(await signInInPage(page, user.identity, passphrase), null);
      const message = page.getByLabel("Message", { exact: true });
      const room = page.locator("#message-room");
      const alert = page.getByRole("alert");
      const big = "x".repeat(300 * 1024);

      await t.step("the room left is shown before typing, and counts down", async () => {
        assertEquals(
          await room.textContent(),
          `${MESSAGE_MAX_BYTES.toLocaleString("en")} characters left`,
        );
        await message.fill("héllo");
        assertEquals(
          await room.textContent(),
          `${(MESSAGE_MAX_BYTES - 6).toLocaleString("en")} characters left`,
        );
        assertEquals(await message.getAttribute("aria-invalid"), null);
      });

      await t.step("300 KB pasted: shown as over, refused in the page, nothing sent", async () => {
        await message.fill(big);
        const over = (big.length - MESSAGE_MAX_BYTES).toLocaleString("en");
        assertEquals(await room.textContent(), `${over} characters too many`);
        assertEquals(await message.getAttribute("aria-invalid"), "true");
        const before = rpcs;
        await page.getByRole("button", { name: "Sign message", exact: true }).click();
        await page.waitForFunction(() => document.getElementById("error")!.textContent !== "");
        assertEquals(await alert.getAttribute("data-code"), "message_too_long");
        const text = (await alert.textContent())!;
        assert(/too long/.test(text) && /64 KiB/.test(text) && /Nothing was sent/.test(text), text);
        assertEquals(rpcs, before, "the page sent a request for a message over the limit");
      });

      await t.step("the next normal message signs and the server verifies it", async () => {
        const before = rpcs;
        const sig = await signInPageMessage(page, "a normal message after a refused one");
        assertOk(sig.length > 300, "a signature is shown");
        assertEquals(await alert.textContent(), "");
        assertEquals(rpcs - before, 1);
      });

      await t.step("after Sign out, no old error is still shown", async () => {
        await message.fill(big);
        await page.getByRole("button", { name: "Sign message", exact: true }).click();
        await page.waitForFunction(() => document.getElementById("error")!.textContent !== "");
        await page.getByRole("button", { name: "Sign out", exact: true }).click();
        await page.getByRole("tab", { name: "New registration" }).waitFor();
        assertEquals(await alert.textContent(), "");
        assertEquals(await alert.getAttribute("data-code"), null);
      });
      assertEquals(await violations(), []);
    } finally {
      await browser.close();
      await stack.stop();
    }
  },
});
