/// <reference lib="dom" />
/**
 * Issue 5's journey in Debian Chromium against real processes (vault, proxy,
 * web server), on PGlite and on PostgreSQL: apply → consent (phrase from
 * `deno task admin letters --json`) → sign in → sign → `openssl` verifies the
 * signature with the directory certificate → sign out → the worker is gone and
 * a heap snapshot of the page holds neither the pass phrase nor the private
 * key. No CSP violation at any point.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, heapSnapshot, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { postgresAvailable, startStack } from "../../harness/mod.ts";
import {
  applyInPage,
  consentInPage,
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  signInInPage,
  signInPageMessage,
} from "./_applet.ts";
import { privateKeyOf } from "./_deno_client.ts";
import { b64uEncode } from "../../protocol/mod.ts";
import { base64 } from "../../protocol/mod.ts";
import { toHex, utf8 } from "../../protocol/mod.ts";
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";

async function openssl(args: string[], cwd: string): Promise<{ ok: boolean; out: string }> {
  const r = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** Text forms the private key could take in a JS heap. */
function encodingsOf(pkcs8: Uint8Array): string[] {
  const out: string[] = [];
  for (let off = 0; off < 3; off++) {
    const tail = pkcs8.subarray(off + 300, off + 300 + 48); // inside the primes / exponents
    out.push(base64(tail).slice(4, 56), b64uEncode(tail).slice(4, 56));
  }
  out.push(toHex(pkcs8.subarray(300, 332)));
  return out;
}

for (const db of ["pglite", "postgres"] as const) {
  Deno.test({
    name:
      `[slow] journey on ${db}: apply, consent, sign in, sign, openssl verifies, sign out wipes`,
    ignore: !haveChromium(),
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async (t) => {
      if (db === "postgres" && !(await postgresAvailable())) {
        console.warn("journey on postgres skipped: no PostgreSQL server reachable");
        return;
      }
      const stack = await startStack({ db, web: true, ksf: KSF_DEFAULT });
      const browser = await launch();
      const work = await Deno.makeTempDir({ prefix: "roamsign-journey-" });
      try {
        const context = await browser.newContext();
        const { page, violations } = await pageWithCspRecorder(context);
        const user = newUser("j");
        const passphrase = newPassphrase();
        const message =
          `Pay 125.00 GBP from ${user.accountNumber} to 20-00-00 12345678, ref ${crypto.randomUUID()}`;

        assertEquals(await openApplet(page, stack.webUrl!), "ready");
        assertEquals(await page.evaluate(() => crossOriginIsolated), true);

        await t.step("apply to register", async () => {
          assertEquals(await applyInPage(page, user, passphrase), null);
        });
        await t.step("consent with the phrase from the operator's letter", async () => {
          const phrase = await consentPhraseFor(stack, user.identity);
          assertEquals(await consentInPage(page, user, phrase), null);
        });
        await t.step("sign in", async () => {
          assertEquals(await signInInPage(page, user.identity, passphrase), null);
        });

        let signatureB64 = "";
        await t.step(
          "sign a message; openssl verifies it against /directory/<identity>",
          async () => {
            signatureB64 = await signInPageMessage(page, message);
            const download = page.waitForEvent("download");
            await page.getByRole("region", { name: "Signature" }).getByRole("link", {
              name: "Download signature file",
            }).click();
            const file = await download;
            await file.saveAs(`${work}/sig.bin`);
            const sig = await Deno.readFile(`${work}/sig.bin`);
            assertEquals(base64(sig), signatureB64);
            await Deno.writeFile(`${work}/message.txt`, utf8(message));
            const res = await fetch(`${stack.webUrl}/directory/${user.identity}?format=pem`);
            assertEquals(res.status, 200);
            await Deno.writeTextFile(`${work}/cert.pem`, await res.text());
            const pub = await openssl([
              "x509",
              "-in",
              "cert.pem",
              "-pubkey",
              "-noout",
              "-out",
              "pub.pem",
            ], work);
            assertOk(pub.ok, pub.out);
            const ok = await openssl([
              "dgst",
              "-sha256",
              "-verify",
              "pub.pem",
              "-signature",
              "sig.bin",
              "message.txt",
            ], work);
            assertOk(ok.ok && ok.out.includes("Verified OK"), ok.out);
            await Deno.writeFile(`${work}/other.txt`, utf8(message + "!"));
            const bad = await openssl([
              "dgst",
              "-sha256",
              "-verify",
              "pub.pem",
              "-signature",
              "sig.bin",
              "other.txt",
            ], work);
            assertOk(!bad.ok, "openssl must reject a changed message");
          },
        );

        await t.step("sign out: the worker is gone, the heap holds no secret", async () => {
          // Positive control: while signed in, the snapshot does show what the page holds.
          // (the page keeps the signed-in user's registration data in its state).
          const before = await heapSnapshot(page);
          assertOk(before.includes(user.fullName), "snapshot search works");
          assertEquals(page.workers().length, 1);

          await page.getByRole("button", { name: "Sign out", exact: true }).click();
          await page.getByRole("status").filter({ hasText: "Signed out" }).waitFor();
          await page.waitForFunction(() => true); // let the terminate settle
          const deadline = Date.now() + 10_000;
          while (page.workers().length > 0 && Date.now() < deadline) {
            await page.waitForEvent("worker", { timeout: 200 }).catch(() => undefined);
          }
          assertEquals(page.workers().length, 0);
          assertEquals(
            await page.getByRole("button", { name: "Sign in", exact: true }).count() +
                await page.getByRole("tab", { name: "Sign in" }).count() > 0,
            true,
          );

          const pkcs8 = await privateKeyOf(stack.webUrl!, user.identity, passphrase);
          const snapshot = await heapSnapshot(page);
          assertOk(!snapshot.includes(passphrase), "pass phrase in the page heap");
          for (const enc of encodingsOf(pkcs8)) {
            assertOk(!snapshot.includes(enc), `key bytes (${enc.slice(0, 12)}…) in the page heap`);
          }
          pkcs8.fill(0);
          const storage = await page.evaluate(async () => ({
            local: localStorage.length,
            session: sessionStorage.length,
            cookies: document.cookie,
            caches: (await caches.keys()).length,
            idb: (await indexedDB.databases()).length,
          }));
          assertEquals(storage, { local: 0, session: 0, cookies: "", caches: 0, idb: 0 });
        });

        await t.step("no CSP violation during the journey", async () => {
          assertEquals(await violations(), []);
        });
        await context.close();
      } finally {
        await browser.close();
        await stack.stop();
        await Deno.remove(work, { recursive: true }).catch(() => {});
      }
    },
  });
}
