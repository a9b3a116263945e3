/// <reference lib="dom" />
/**
 * Issue 5's negative cases in Chromium against real processes (PGlite):
 * wrong pass phrase, wrong consent phrase until locked and an operator reset,
 * a second application for a pending identity, and a tampered applet: a changed wasm
 * file, a changed worker file (caught by the page's SRI check of the worker's bytes),
 * and a changed wasm file with a manifest rewritten to match (the worker checks the
 * hashes linked into its own bytes, never the manifest).
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { startStack } from "../../harness/mod.ts";
import { type Manifest } from "../../server/mod.ts";
import { spawnChild, waitHealthy } from "../../platform/mod.ts";
import { formatConsentPhrase, KSF_DEFAULT } from "../../protocol/mod.ts";
import {
  admin,
  applyInPage,
  consentInPage,
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  signInInPage,
} from "./_applet.ts";
import { applyFromDeno, consentFromDeno } from "./_deno_client.ts";

const _ROOT = new URL("../../", import.meta.url).pathname;
// Below the proxy's consent backoff (3 free attempts), so the vault's own lock is what answers.
const MAX_CONSENT_ATTEMPTS = 2;

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

function count(lines: string[], needle: string): number {
  return lines.filter((l) => l.includes(needle)).length;
}

Deno.test({
  name: "[slow] negative cases in the applet",
  ignore: !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({
      web: true,
      ksf: KSF_DEFAULT, // the applet in the browser refuses less than its floor
      env: { CONSENT_MAX_ATTEMPTS: String(MAX_CONSENT_ATTEMPTS) },
    });
    const browser = await launch();
    try {
      const context = await browser.newContext();
      const { page, violations } = await pageWithCspRecorder(context);
      assertEquals(await openApplet(page, stack.webUrl!), "ready");

      await t.step(
        "wrong pass phrase: clear error, the vault never releases the record",
        async () => {
          const user = newUser("w");
          const pass = newPassphrase();
          await applyFromDeno(stack.webUrl!, user, pass);
          await consentFromDeno(stack.webUrl!, user, await consentPhraseFor(stack, user.identity));
          // The proxy logs every decision; it is the only way to the vault.
          const released = () => count(stack.proxy.lines, '"decision":"allow","op":"login.finish"');
          const before = released();
          const err = await signInInPage(page, user.identity, pass + " wrong");
          assertEquals(err, "Wrong identity or pass phrase.");
          assertEquals(released(), before, "login.finish reached the vault");
          // Control: the right pass phrase does reach login.finish, so the count above can move.
          await page.reload();
          assertEquals(await openApplet(page, stack.webUrl!), "ready");
          assertEquals(await signInInPage(page, user.identity, pass), null);
          assertEquals(released(), before + 1);
          await page.getByRole("button", { name: "Sign out", exact: true }).click();
          await page.getByRole("status").filter({ hasText: "Signed out" }).waitFor();
        },
      );

      await t.step(
        `wrong consent phrase ${MAX_CONSENT_ATTEMPTS} times: locked until an operator resets`,
        async () => {
          const user = newUser("c");
          await applyFromDeno(stack.webUrl!, user, newPassphrase());
          const right = await consentPhraseFor(stack, user.identity);
          const alerts: string[] = [];
          for (let i = 0; i < MAX_CONSENT_ATTEMPTS; i++) {
            const wrong = formatConsentPhrase(crypto.getRandomValues(new Uint8Array(10)));
            const err = await consentInPage(page, user, wrong);
            assertOk(err, "a wrong phrase must be refused");
            if (i < MAX_CONSENT_ATTEMPTS - 1) {
              const left = MAX_CONSENT_ATTEMPTS - 1 - i;
              assertOk(err.includes(`${left} attempt${left === 1 ? "" : "s"} left`), err);
            }
            alerts.push(err);
            await page.evaluate(() => (document.getElementById("error")!.textContent = ""));
          }
          const locked = await consentInPage(page, user, right);
          assertOk(locked, "the right phrase must be refused once locked");
          const code = await page.getByRole("alert").getAttribute("data-code");
          assertOk(code && /lock|attempt/.test(code), `locked code, got ${code}: ${locked}`);
          await page.evaluate(() => (document.getElementById("error")!.textContent = ""));
          await admin(stack, "consent-reset", user.identity);
          // The proxy's backoff for this (identity, address) pair still runs after the
          // operator's reset; the page says how long, and the person waits that long.
          let after = await consentInPage(page, user, right);
          const retry = await page.getByRole("alert").getAttribute("data-retry-after-ms");
          if (after && retry) {
            assertOk(Number(retry) <= 5_000, `backoff ${retry} ms`);
            await new Promise((r) => setTimeout(r, Number(retry) + 50));
            await page.evaluate(() => (document.getElementById("error")!.textContent = ""));
            after = await consentInPage(page, user, right);
          }
          assertEquals(after, null);
        },
      );

      await t.step("a typo in the consent phrase is caught before anything is sent", async () => {
        const user = newUser("t");
        const phrase = formatConsentPhrase(crypto.getRandomValues(new Uint8Array(10)));
        const typo = phrase.slice(0, 6) + (phrase[6] === "A" ? "B" : "A") + phrase.slice(7);
        const consents = () => count(stack.proxy.lines, '"op":"consent"');
        const before = consents();
        const err = await consentInPage(page, user, typo);
        assertEquals(consents(), before, "a consent request reached the proxy");
        assertOk(err?.includes("typo in group 2"), String(err));
        await page.evaluate(() => (document.getElementById("error")!.textContent = ""));
      });

      await t.step("a second application for a pending identity is refused", async () => {
        const user = newUser("p");
        await applyFromDeno(stack.webUrl!, user, newPassphrase());
        const err = await applyInPage(page, user, newPassphrase());
        assertOk(err, "second application must be refused");
        const code = await page.getByRole("alert").getAttribute("data-code");
        assertOk(code && /pending|exists|taken/.test(code), `code ${code}: ${err}`);
        await page.evaluate(() => (document.getElementById("error")!.textContent = ""));
      });

      await t.step(
        "10 idle minutes: the worker wipes itself and the page is signed out",
        async () => {
          const user = newUser("i");
          const pass = newPassphrase();
          await applyFromDeno(stack.webUrl!, user, pass);
          await consentFromDeno(stack.webUrl!, user, await consentPhraseFor(stack, user.identity));
          const ctx = await browser.newContext();
          await ctx.clock.install();
          const p = await ctx.newPage();
          assertEquals(await openApplet(p, stack.webUrl!), "ready");
          assertEquals(await signInInPage(p, user.identity, pass), null);
          assertEquals(p.workers().length, 1);
          await p.clock.fastForward("09:50");
          assertEquals(await p.getByRole("button", { name: "Sign out", exact: true }).count(), 1);
          await p.clock.fastForward("00:11");
          await p.getByRole("status").filter({ hasText: "idle" }).waitFor();
          const deadline = Date.now() + 10_000;
          while (p.workers().length > 0 && Date.now() < deadline) {
            await p.waitForFunction(() => true);
          }
          assertEquals(p.workers().length, 0);
          assertEquals(await p.getByRole("button", { name: "Sign out", exact: true }).count(), 0);
          await ctx.close();
        },
      );

      await t.step("no CSP violation in any of the above", async () => {
        assertEquals(await violations(), []);
      });
      await context.close();

      /**
       * Serves a copy of this stack's linked applet (`${dataDir}/dist`) from a second web
       * server (SKIP_BUILD, so it serves the copy as it is on disk), lets `tamper` change
       * the copy, and opens the page in a fresh context: the applet must refuse to start
       * with the `applet_tampered` alert and no worker running.
       */
      const refusesTampered = async (
        tamper: (dist: string, manifest: Manifest) => Promise<void>,
      ): Promise<void> => {
        const dist = await Deno.makeTempDir({ prefix: "roamsign-dist-" });
        await new Deno.Command("cp", { args: ["-r", `${stack.dataDir}/dist/.`, dist] }).output();
        const manifest = JSON.parse(await Deno.readTextFile(`${dist}/manifest.json`));
        const web = spawnChild({
          name: "web-tampered",
          script: `${_ROOT}server/main.ts`,
          env: {
            PATH: Deno.env.get("PATH") ?? "",
            HOME: Deno.env.get("HOME") ?? "/tmp",
            DATA_DIR: stack.dataDir,
            DIST_DIR: dist,
            SKIP_BUILD: "1",
            PORT: "0",
            PROXY_URL: stack.proxyUrl,
          },
          cwd: _ROOT,
        });
        try {
          const url = `http://127.0.0.1:${await web.listening}`;
          await waitHealthy(`${url}/healthz`);
          const fresh = await browser.newContext();
          const p1 = await fresh.newPage();
          assertEquals(await openApplet(p1, url), "ready", "the untouched copy starts");
          await fresh.close();

          await tamper(dist, manifest);

          const ctx = await browser.newContext();
          const { page: p2, violations } = await pageWithCspRecorder(ctx);
          assertEquals(await openApplet(p2, url), "failed");
          const alert = p2.getByRole("alert");
          assertEquals(
            (await alert.textContent())?.trim(),
            "The applet's files do not match its build; it will not start.",
          );
          assertEquals(await alert.getAttribute("data-code"), "applet_tampered");
          assertOk(await alert.isVisible(), "the alert is visible");
          assertEquals(p2.workers().length, 0);
          assertEquals(await violations(), []);
          await ctx.close();
        } finally {
          await web.stop();
          await Deno.remove(dist, { recursive: true }).catch(() => {});
        }
      };

      await t.step(
        "a wasm file changed on disk after the build: the applet refuses to start",
        () =>
          refusesTampered(async (dist, manifest) => {
            // both builds: a tampered file must stop the applet, never make it fall back
            for (const path of [manifest.entries.wasm, manifest.entries.wasmRelaxed]) {
              const wasmFile = `${dist}${path}`;
              const bytes = await Deno.readFile(wasmFile);
              bytes[bytes.length - 1] ^= 0x01;
              await Deno.writeFile(wasmFile, bytes);
            }
          }),
      );

      await t.step(
        "a worker file changed on disk (still valid JavaScript): the page's SRI check stops it",
        () =>
          refusesTampered(async (dist, manifest) => {
            // One letter of a message: the worker would still run, so only the page's
            // check of the worker's bytes can stop it (new Worker(url) has no SRI).
            const file = `${dist}${manifest.entries.worker}`;
            const text = await Deno.readTextFile(file);
            const from = "Something went wrong in the applet.";
            assertEquals(text.split(from).length, 2, "the worker holds the message once");
            await Deno.writeTextFile(
              file,
              text.replace(from, "Something went wrong in the applEt."),
            );
          }),
      );

      await t.step(
        "a wasm file changed together with the manifest's hash of it: the worker still refuses",
        () =>
          refusesTampered(async (dist, manifest) => {
            // A valid module (a custom section appended), and a manifest that vouches for
            // it: the worker checks the SHA-256 linked into its own bytes, not the manifest.
            const m = JSON.parse(await Deno.readTextFile(`${dist}/manifest.json`));
            for (const path of [manifest.entries.wasm, manifest.entries.wasmRelaxed]) {
              const file = `${dist}${path}`;
              const bytes = await Deno.readFile(file);
              const custom = [0x00, 0x05, 0x04, ...new TextEncoder().encode("evil")];
              const changed = new Uint8Array([...bytes, ...custom]);
              assertOk(WebAssembly.validate(changed), "the tampered module is still valid");
              await Deno.writeFile(file, changed);
              m.files[path].sha256 = await sha256Hex(changed);
              m.files[path].size = changed.length;
            }
            await Deno.writeTextFile(`${dist}/manifest.json`, JSON.stringify(m, null, 2) + "\n");
          }),
      );

      await t.step(
        "the OPAQUE client's wasm changed together with the manifest's hash of it: the worker refuses",
        () =>
          refusesTampered(async (dist, manifest) => {
            // Only the OPAQUE module (server/opaque_split.ts): wasm-crypto stays intact, so
            // the refusal comes from the check of this file against the linked SHA-256.
            const m = JSON.parse(await Deno.readTextFile(`${dist}/manifest.json`));
            const path = manifest.entries.opaque;
            const bytes = await Deno.readFile(`${dist}${path}`);
            const custom = [0x00, 0x05, 0x04, ...new TextEncoder().encode("evil")];
            const changed = new Uint8Array([...bytes, ...custom]);
            assertOk(WebAssembly.validate(changed), "the tampered module is still valid");
            await Deno.writeFile(`${dist}${path}`, changed);
            m.files[path].sha256 = await sha256Hex(changed);
            m.files[path].size = changed.length;
            await Deno.writeTextFile(`${dist}/manifest.json`, JSON.stringify(m, null, 2) + "\n");
          }),
      );
    } finally {
      await browser.close();
      await stack.stop();
    }
  },
});
