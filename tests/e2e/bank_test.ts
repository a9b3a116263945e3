/// <reference lib="dom" />
/**
 * Issue 16's bank items in Debian Chromium against real processes (vault, proxy, web
 * server, the demo bank; PGlite): the currency is the bank's, shown as fixed text; the
 * downloaded receipt carries the bank's signature, which `deno task verify --receipt` and
 * `openssl` accept (and refuse once changed); sending the same payment again first asks
 * "You already sent this payment. Send it again?" — "Don't send" sends nothing, "Send it
 * again" pays a second time, on purpose, and the ledger shows exactly that; and when the
 * bank's answer is lost on the way (the web server gives up, 504), sending again is not paid
 * twice: the bank answers with the first payment's receipt (`duplicate_payment`).
 */
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { startStack } from "../../harness/mod.ts";
import {
  applyInPage,
  consentInPage,
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  outcome,
  sendToBankInPage,
  signInInPage,
} from "./_applet.ts";
import { b64uDecode } from "../../protocol/mod.ts";
import type { Page } from "playwright-core";

const _ROOT = new URL("../../", import.meta.url).pathname;

async function run(cmd: string, args: string[], cwd: string, env?: Record<string, string>) {
  const r = await new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** The receipt's download, saved to `path`; its text. */
async function downloadReceipt(page: Page, path: string): Promise<string> {
  const download = page.waitForEvent("download");
  await page.getByRole("region", { name: "Receipt" }).getByRole("link", {
    name: "Download receipt",
  }).click();
  await (await download).saveAs(path);
  return await Deno.readTextFile(path);
}

/** The ledger's entries for one payee. */
async function entriesTo(ledgerPath: string, payee: string): Promise<unknown[]> {
  const ledger = JSON.parse(await Deno.readTextFile(ledgerPath));
  return ledger.entries.filter((e: { to: string }) => e.to === payee);
}

Deno.test({
  name:
    "[slow] bank in the page: fixed currency, a checkable signed receipt, a repeat is asked about",
  ignore: !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ host: true, ksf: KSF_DEFAULT });
    const browser = await launch();
    const work = await Deno.makeTempDir({ prefix: "roamsign-bank-e2e-" });
    const ledgerPath = `${stack.dataDir}/host-bank/ledger.json`;
    try {
      const { page, violations } = await pageWithCspRecorder(await browser.newContext());
      const user = newUser("b");
      const pass = newPassphrase();
      assertEquals(await openApplet(page, stack.webUrl!), "ready");
      assertEquals(await applyInPage(page, user, pass), null);
      const phrase = await consentPhraseFor(stack, user.identity);
      assertEquals(await consentInPage(page, user, phrase), null);
      assertEquals(await signInInPage(page, user.identity, pass), null);

      await t.step("the currency is the bank's, fixed text and no field", async () => {
        const currency = page.locator("#currency");
        await page.waitForFunction(() =>
          document.getElementById("currency")?.textContent === "GBP"
        );
        assertEquals(await currency.textContent(), "GBP");
        assertEquals(await page.getByRole("textbox", { name: "Currency" }).count(), 0);
        assertEquals(await page.locator("#currency-label").textContent(), "Currency");
      });

      const payee = `20-00-00 ${String(Math.random()).slice(2, 10)}`;
      const payment = { to: payee, amount: "12.5", reference: `books ${crypto.randomUUID()}` };
      await t.step(
        "pay: the receipt's bank signature was checked, and its file verifies",
        async () => {
          assertEquals(await sendToBankInPage(page, payment), null);
          const region = page.getByRole("region", { name: "Receipt" });
          const text = (await region.textContent()) ?? "";
          assertOk(text.includes("Receipt signature verified with the bank's pinned"), text);
          assertOk(text.includes("12.50 GBP") && text.includes("987.50 GBP"), text);

          const file = await downloadReceipt(page, `${work}/receipt.json`);
          const verify = (path: string) =>
            run(Deno.execPath(), ["task", "--quiet", "verify", "--", "--receipt", path], _ROOT, {
              DATA_DIR: stack.dataDir, // as the bank's customer would: the published bank key
            });
          const ok = await verify(`${work}/receipt.json`);
          assertEquals(ok.code, 0, ok.out);
          assertOk(ok.out.includes("12.50 GBP") && ok.out.includes("host-bank.json"), ok.out);

          // The openssl recipe of docs/bank-receipt.md, with the JSON read here instead of jq.
          const f = JSON.parse(file);
          await Deno.writeTextFile(`${work}/receipt.txt`, f.receipt);
          await Deno.writeFile(
            `${work}/receipt.sig`,
            b64uDecode(
              f.signature.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"),
            ),
          );
          await Deno.writeTextFile(`${work}/bank.pem`, f.signerCertificate);
          await run(
            "openssl",
            ["x509", "-in", "bank.pem", "-pubkey", "-noout", "-out", "pub.pem"],
            work,
          );
          const dgst = (msg: string) =>
            run("openssl", [
              "dgst",
              "-sha256",
              "-verify",
              "pub.pem",
              "-signature",
              "receipt.sig",
              msg,
            ], work);
          const good = await dgst("receipt.txt");
          assertOk(good.code === 0 && good.out.includes("Verified OK"), good.out);

          // Changed by one digit: both refuse it.
          const forged = f.receipt.replace('"amount":"12.50"', '"amount":"92.50"');
          assertOk(forged !== f.receipt);
          await Deno.writeTextFile(`${work}/forged.txt`, forged);
          assertOk((await dgst("forged.txt")).code !== 0, "openssl must refuse a changed receipt");
          await Deno.writeTextFile(
            `${work}/forged.json`,
            JSON.stringify({ ...f, receipt: forged }),
          );
          assertEquals((await verify(`${work}/forged.json`)).code, 1);
        },
      );

      await t.step(
        "the same payment again: the page asks first; Don't send sends nothing",
        async () => {
          const before = await Deno.readFile(ledgerPath);
          await page.getByRole("button", { name: "Send to bank", exact: true }).click();
          const question = page.getByRole("alertdialog", {
            name: "You already sent this payment. Send it again?",
          });
          await question.waitFor();
          const dont = page.getByRole("button", { name: "Don't send", exact: true });
          assertEquals(await dont.evaluate((b) => b === document.activeElement), true);
          await dont.click();
          assertEquals(await question.count(), 0);
          assertEquals(await page.getByRole("status").textContent(), "Not sent.");
          assertEquals(await Deno.readFile(ledgerPath), before, "nothing was sent");
          assertEquals((await entriesTo(ledgerPath, payee)).length, 1);
        },
      );

      await t.step("Send it again: a deliberate second payment, with a fresh key", async () => {
        const first = (await page.locator("#receipt").textContent()) ?? "";
        await page.getByRole("button", { name: "Send to bank", exact: true }).click();
        await page.getByRole("button", { name: "Send it again", exact: true }).click();
        assertEquals(await outcome(page, /Executed by the bank/), null);
        const second = (await page.locator("#receipt").textContent()) ?? "";
        assertOk(second.includes("975.00 GBP") && second !== first, second);
        const entries = await entriesTo(ledgerPath, payee) as { idempotencyKey: string }[];
        assertEquals(entries.length, 2);
        assertOk(entries[0].idempotencyKey !== entries[1].idempotencyKey, "a fresh key");
      });

      await t.step("another payment is not a repeat: no question", async () => {
        assertEquals(
          await sendToBankInPage(page, { ...payment, amount: "1.00" }),
          null,
        );
        assertEquals(await page.getByRole("alertdialog").count(), 0);
        assertEquals((await entriesTo(ledgerPath, payee)).length, 3);
      });

      await t.step(
        "a lost answer, then Send again: the bank pays once and answers with the first receipt",
        async () => {
          const lost = {
            to: `30-00-00 ${String(Math.random()).slice(2, 10)}`,
            amount: "2.00",
            reference: "",
          };
          const hold = stack.hostGate!.holdNext();
          const first = sendToBankInPage(page, lost);
          await hold.arrived; // the bank has executed it; its answer waits at the gate
          const err = await first; // the web server stops waiting (host_timeout) …
          assertEquals(
            await page.getByRole("alert").getAttribute("data-code"),
            "host_timeout",
            String(err),
          );
          hold.release(); // … and the answer arrives too late for anyone
          assertEquals((await entriesTo(ledgerPath, lost.to)).length, 1);
          const paidOnce = await Deno.readFile(ledgerPath);
          // No receipt in this page for it, so no question: sent again with the same key.
          await page.getByRole("button", { name: "Send to bank", exact: true }).click();
          assertEquals(await outcome(page, /Not paid again/), null);
          const text = (await page.locator("#receipt").textContent()) ?? "";
          assertOk(text.includes("You had sent this payment before"), text);
          assertOk(text.includes("Receipt signature verified"), text);
          assertEquals(
            await page.locator("#receipt-duplicate").getAttribute("data-code"),
            "duplicate_payment",
          );
          assertEquals(await Deno.readFile(ledgerPath), paidOnce, "not paid twice");
        },
      );

      await t.step("no CSP violation", async () => {
        assertEquals(await violations(), []);
      });
    } finally {
      await browser.close();
      await stack.stop();
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
