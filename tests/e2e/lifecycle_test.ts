/// <reference lib="dom" />
/**
 * Issue 6 in Debian Chromium against real processes (vault, proxy, web server and
 * the demo bank, PGlite): the whole life of one user — apply → consent → sign in →
 * sign → send to the bank end to end → receipt verified → re-register (two pages
 * racing: exactly one wins) → the old signature still verifies against the history,
 * the new key signs, the old one cannot → revoke → sign-in refused, the CRL lists
 * the serial, `openssl verify -crl_check` fails. Plus, in the same stack: the web
 * server's logs and its memory while it routes a message hold no plaintext; a
 * re-registration signed by a wrong key is refused and changes nothing; a replayed
 * bank message is refused by the bank and leaves its ledger as it was.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { denoHeapSnapshot, inspectorUrl } from "../fixtures/inspector.ts";
import { startStack } from "../../harness/mod.ts";
import {
  admin,
  applyInPage,
  consentInPage,
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  outcome,
  reregisterInPage,
  revokeInPage,
  sendToBankInPage,
  signInInPage,
  signInPageMessage,
  updateAddressInPage,
} from "./_applet.ts";
import { signedIn } from "./_deno_client.ts";
import { b64uEncode } from "../../protocol/mod.ts";
import { base64 } from "../../protocol/mod.ts";
import { toHex, utf8 } from "../../protocol/mod.ts";
import { forget, reregister } from "../../applet/mod.ts";
import { RpcError } from "../../applet/mod.ts";
import { generateRsaKey } from "../../wasm-crypto/mod.ts";
import type { Page } from "playwright-core";
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";

const _ROOT = new URL("../../", import.meta.url).pathname;

async function run(cmd: string, args: string[], cwd: string, env?: Record<string, string>) {
  const r = await new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: r.code, ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

const openssl = (args: string[], cwd: string) => run("openssl", args, cwd);

/**
 * `deno task verify` against the stack's web server, run as its operator would: with the
 * stack's data directory, which holds the vault's CA (`ca.pem`); the verdict and the exit code.
 */
async function verify(
  webUrl: string,
  identity: string,
  message: string,
  signature: string,
  dataDir: string,
) {
  const r = await run(
    Deno.execPath(),
    [
      "task",
      "--quiet",
      "verify",
      "--",
      "--identity",
      identity,
      "--message",
      message,
      "--signature",
      signature,
      "--server",
      webUrl,
      "--json",
    ],
    _ROOT,
    { DATA_DIR: dataDir },
  );
  let verdict = "";
  try {
    verdict = JSON.parse(r.out).verdict;
  } catch {
    verdict = r.out;
  }
  return { code: r.code, verdict };
}

/** Text forms the plaintext could take in a server's heap. */
function plaintextForms(message: Uint8Array, markers: string[]): string[] {
  const out = [...markers];
  for (let off = 0; off < 3; off++) {
    const part = message.subarray(off + 30, off + 30 + 60);
    out.push(base64(part).slice(4, 60), b64uEncode(part).slice(4, 60));
  }
  out.push(toHex(message.subarray(30, 62)));
  return out;
}

async function signedInstruction(page: Page): Promise<string> {
  return (await page.getByRole("region", { name: "Receipt" }).locator("#instruction-text")
    .textContent()) ?? "";
}

Deno.test({
  name: "[slow] the life of one user: sign, bank, re-register (racing), revoke; wrong key, replay",
  ignore: !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ host: true, inspectWeb: true, ksf: KSF_DEFAULT });
    const web = stack.webUrl!;
    const browser = await launch();
    const work = await Deno.makeTempDir({ prefix: "roamsign-life-" });
    const ledgerPath = `${stack.dataDir}/host-bank/ledger.json`;
    try {
      const { page, violations } = await pageWithCspRecorder(await browser.newContext());
      const user = newUser("l");
      const id = user.identity;
      const pass = newPassphrase();
      assertEquals(await openApplet(page, web), "ready");

      await t.step("apply, consent, sign in", async () => {
        assertEquals(await applyInPage(page, user, pass), null);
        assertEquals(await consentInPage(page, user, await consentPhraseFor(stack, id)), null);
        assertEquals(await signInInPage(page, id, pass), null);
      });

      await t.step("sign: openssl and deno task verify accept the applet's signature", async () => {
        const sig = await signInPageMessage(page, `I, ${id}, agree. ${crypto.randomUUID()}`);
        const text = await page.getByLabel("Message", { exact: true }).inputValue();
        await Deno.writeFile(`${work}/m1.txt`, utf8(text));
        await Deno.writeFile(`${work}/m1.sig`, Uint8Array.from(atob(sig), (c) => c.charCodeAt(0)));
        await Deno.writeTextFile(
          `${work}/cert1.pem`,
          await (await fetch(`${web}/directory/${id}?format=pem`)).text(),
        );
        await openssl(["x509", "-in", "cert1.pem", "-pubkey", "-noout", "-out", "pub1.pem"], work);
        const dgst = await openssl(
          ["dgst", "-sha256", "-verify", "pub1.pem", "-signature", "m1.sig", "m1.txt"],
          work,
        );
        assertOk(dgst.ok && dgst.out.includes("Verified OK"), dgst.out);
        assertEquals(await verify(web, id, `${work}/m1.txt`, `${work}/m1.sig`, stack.dataDir), {
          code: 0,
          verdict: "valid",
        });
      });

      let envelope = "";
      let instruction = "";
      await t.step(
        "send to the bank end to end: receipt verified; the web server's logs and memory hold no plaintext",
        async () => {
          const marker = `rent-${crypto.randomUUID()}`;
          const payee = `20-00-00 ${String(Math.random()).slice(2, 10)}`;
          const hold = stack.hostGate!.holdNext();
          const sent = sendToBankInPage(page, { to: payee, amount: "125", reference: marker });
          envelope = await hold.arrived; // the bank answered; the web server is waiting for it
          const snapshot = await denoHeapSnapshot(inspectorUrl(stack.web!));
          hold.release();
          assertEquals(await sent, null);
          const receipt = page.getByRole("region", { name: "Receipt" });
          const text = (await receipt.textContent()) ?? "";
          assertOk(text.includes("Receipt signature verified"), text);
          assertOk(text.includes("125.00 GBP") && text.includes("875.00 GBP"), text);
          instruction = await signedInstruction(page);
          assertOk(instruction.includes(marker) && instruction.includes(`from: ${id}`));

          // Positive control: the envelope the web server is routing is in its heap …
          const ct = JSON.parse(envelope).ct as string;
          assertOk(snapshot.includes(ct.slice(0, 200)), "the snapshot holds the request");
          // … and the message it carries is not, in any encoding, nor in any log line.
          const forms = plaintextForms(utf8(instruction), [marker, payee]);
          for (const f of forms) {
            assertOk(!snapshot.includes(f), `plaintext (${f}) in server memory`);
          }
          const logs = stack.web!.lines.join("\n");
          for (const f of forms) assertOk(!logs.includes(f), `plaintext (${f}) in the web log`);
          assertOk(!envelope.includes(marker), "the routed envelope is ciphertext");
        },
      );

      await t.step(
        "a replayed bank message is refused by the bank; the ledger is unchanged",
        async () => {
          const before = await Deno.readFile(ledgerPath);
          // Straight to the bank, without the web server naming the signed-in signer.
          const unnamed = await fetch(`${stack.hostUrl}/v1/messages`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: envelope,
          });
          assertEquals(unnamed.status, 403);
          assertEquals((await unnamed.json()).error.code, "wrong_signer");
          // …and as the web server would relay it for the signer.
          const direct = await fetch(`${stack.hostUrl}/v1/messages`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-roamsign-signed-in": id },
            body: envelope,
          });
          assertEquals(direct.status, 409);
          assertEquals((await direct.json()).error.code, "duplicate_message");
          // The same envelope relayed again by the web server, from a signed-in session.
          const { session, user: deno } = await signedIn(web, id, pass);
          try {
            const e = JSON.parse(envelope);
            const err = await session.call("host.submit", e).then(() => null, (x) => x);
            assertOk(err instanceof RpcError && err.code === "duplicate_message", String(err));
          } finally {
            forget(deno);
            await session.close();
          }
          assertEquals(await Deno.readFile(ledgerPath), before);
        },
      );

      await t.step(
        "a re-registration signed by a wrong key is refused; nothing changes",
        async () => {
          const before = await (await fetch(`${web}/directory/${id}/history`)).text();
          const crlBefore = await (await fetch(`${web}/crl.pem`)).text();
          const { session, user: deno } = await signedIn(web, id, pass);
          const stranger = generateRsaKey(2048);
          const own = deno.key;
          try {
            deno.key = stranger; // signs the request with a key that is not the user's
            const err = await reregister(session, deno, {
              passphrase: utf8("a pass phrase of mallory"),
              currentPassphrase: utf8(pass),
              bits: 2048,
            }).then(() => null, (x) => x);
            assertOk(err instanceof RpcError && err.code === "signature_invalid", String(err));
          } finally {
            deno.key = own;
            stranger.destroy();
            forget(deno);
            await session.close();
          }
          assertEquals(await (await fetch(`${web}/directory/${id}/history`)).text(), before);
          assertEquals(await (await fetch(`${web}/crl.pem`)).text(), crlBefore);
          const still = await signedIn(web, id, pass);
          forget(still.user);
          await still.session.close();
        },
      );

      await t.step(
        "Re-register with a wrong current pass phrase: refused, key unchanged, still signed in",
        async () => {
          const before = await (await fetch(`${web}/directory/${id}`)).json();
          const history = await (await fetch(`${web}/directory/${id}/history`)).text();
          const err = await reregisterInPage(page, newPassphrase(), `not ${pass}`);
          assertOk(err !== null && /Wrong current pass phrase/.test(err), String(err));
          assertEquals(await page.getByRole("alert").getAttribute("data-code"), "wrong_passphrase");
          const after = await (await fetch(`${web}/directory/${id}`)).json();
          assertEquals([after.status, after.serial], ["active", before.serial]);
          assertEquals(after.certificate, before.certificate);
          assertEquals(await (await fetch(`${web}/directory/${id}/history`)).text(), history);
          // Still signed in: the page still offers Sign out, and the key still signs.
          assertEquals(
            await page.getByRole("button", { name: "Sign out", exact: true }).count(),
            1,
          );
          await signInPageMessage(page, `Still me, ${crypto.randomUUID()}`);
        },
      );

      await t.step(
        "Update registration needs the current pass phrase: a wrong one changes nothing",
        async () => {
          const err = await updateAddressInPage(page, "9 Wrong Road, Leeds", `not ${pass}`);
          assertOk(err !== null && /Wrong current pass phrase/.test(err), String(err));
          assertEquals(await page.getByRole("alert").getAttribute("data-code"), "wrong_passphrase");
          assertEquals(await updateAddressInPage(page, "2 New Street, Bath", pass), null);
        },
      );

      const pages: Page[] = [page];
      const passes = [newPassphrase(), newPassphrase()];
      let winner = -1;
      await t.step("two re-registrations racing: exactly one wins", async () => {
        const other = (await pageWithCspRecorder(await browser.newContext())).page;
        pages.push(other);
        assertEquals(await openApplet(other, web), "ready");
        assertEquals(await signInInPage(other, id, pass), null);
        for (const [i, p] of pages.entries()) {
          const form = p.getByRole("form", { name: "Re-register" });
          await form.getByLabel("Current pass phrase", { exact: true }).fill(pass);
          for (const label of ["New pass phrase", "Confirm new pass phrase"]) {
            await form.getByLabel(label, { exact: true }).fill(passes[i]);
          }
        }
        await Promise.all(
          pages.map((p) => p.getByRole("button", { name: "Re-register", exact: true }).click()),
        );
        const results = await Promise.all(pages.map((p) => outcome(p, /Re-registered/)));
        assertEquals(results.filter((r) => r === null).length, 1, results.join(" | "));
        winner = results.indexOf(null);
        const loser = results[1 - winner]!;
        // The loser either re-authenticated before the winner committed and then lost the
        // race at the vault (key_superseded), or re-authenticated after it, when its "current"
        // pass phrase no longer was (wrong_passphrase), or was re-authenticating while the
        // winner committed, which deletes the identity's logins in progress (login_expired).
        // Either way it changed nothing.
        assertOk(
          /replaced by a re-registration|Wrong current pass phrase|sign-in has expired/.test(loser),
          loser,
        );
        assertOk(
          ["key_superseded", "wrong_passphrase", "login_expired"].includes(
            (await pages[1 - winner].getByRole("alert").getAttribute("data-code"))!,
          ),
        );
        const history = await (await fetch(`${web}/directory/${id}/history`)).json();
        assertEquals(
          history.certificates.map((c: { status: string }) => c.status),
          ["superseded", "active"],
        );
      });

      await t.step(
        "the old signature verifies against the history; the new key signs",
        async () => {
          const p = pages[winner];
          assertEquals(await verify(web, id, `${work}/m1.txt`, `${work}/m1.sig`, stack.dataDir), {
            code: 3,
            verdict: "signed-by-superseded-key",
          });
          const sig = await signInPageMessage(p, `Second thoughts, ${crypto.randomUUID()}`);
          const text = await p.getByLabel("Message", { exact: true }).inputValue();
          await Deno.writeFile(`${work}/m2.txt`, utf8(text));
          await Deno.writeFile(
            `${work}/m2.sig`,
            Uint8Array.from(atob(sig), (c) => c.charCodeAt(0)),
          );
          assertEquals(await verify(web, id, `${work}/m2.txt`, `${work}/m2.sig`, stack.dataDir), {
            code: 0,
            verdict: "valid",
          });
          assertEquals(
            await sendToBankInPage(p, { to: "30-00-00 1", amount: "5.00", reference: "" }),
            null,
          );
          const receipt = (await p.getByRole("region", { name: "Receipt" }).textContent()) ?? "";
          assertOk(receipt.includes("870.00 GBP"), receipt);
          await Deno.writeTextFile(
            `${work}/cert2.pem`,
            await (await fetch(`${web}/directory/${id}?format=pem`)).text(),
          );
          await Deno.writeTextFile(`${work}/ca.pem`, await (await fetch(`${web}/ca.pem`)).text());
          await Deno.writeTextFile(`${work}/crl.pem`, await (await fetch(`${web}/crl.pem`)).text());
          const superseded = await openssl(
            ["verify", "-crl_check", "-CAfile", "ca.pem", "-CRLfile", "crl.pem", "cert1.pem"],
            work,
          );
          assertOk(!superseded.ok && /revoked/.test(superseded.out), superseded.out);
          const current = await openssl(
            ["verify", "-crl_check", "-CAfile", "ca.pem", "-CRLfile", "crl.pem", "cert2.pem"],
            work,
          );
          assertOk(current.ok, current.out);
        },
      );

      await t.step("the old key cannot sign any more: the bank refuses it", async () => {
        const before = await Deno.readFile(ledgerPath);
        const p = pages[1 - winner];
        const err = await sendToBankInPage(p, { to: "40-00-00 1", amount: "1.00", reference: "" });
        assertOk(err !== null && /replaced by a re-registration/.test(err), String(err));
        assertEquals(
          await p.getByRole("alert").getAttribute("data-code"),
          "key_superseded",
        );
        assertEquals(await Deno.readFile(ledgerPath), before);
      });

      await t.step(
        "revoke (with confirmation): sign-in refused, CRL lists the serial",
        async () => {
          const p = pages[winner];
          const serial = (await (await fetch(`${web}/directory/${id}`)).json()).serial as string;
          await p.getByRole("button", { name: "Revoke key", exact: true }).click();
          await p.getByRole("button", { name: "Cancel", exact: true }).click();
          assertEquals(await p.getByRole("alertdialog").count(), 0);
          assertEquals((await (await fetch(`${web}/directory/${id}`)).json()).status, "active");
          // A wrong current pass phrase in the dialog: refused, nothing revoked.
          const wrong = await revokeInPage(p, `not ${passes[winner]}`);
          assertOk(wrong !== null && /Wrong current pass phrase/.test(wrong), String(wrong));
          assertEquals((await (await fetch(`${web}/directory/${id}`)).json()).status, "active");
          assertEquals(await revokeInPage(p, passes[winner]), null);
          const deadline = Date.now() + 10_000;
          while (p.workers().length > 0 && Date.now() < deadline) {
            await p.waitForEvent("worker", { timeout: 200 }).catch(() => undefined);
          }
          assertEquals(p.workers().length, 0, "the worker is gone");

          const err = await signInInPage(p, id, passes[winner]);
          assertOk(err !== null && /revoked/.test(err), String(err));
          assertEquals(await p.getByRole("alert").getAttribute("data-code"), "account_revoked");

          const entry = await (await fetch(`${web}/directory/${id}`)).json();
          assertEquals([entry.status, entry.serial], ["revoked", serial]);
          await Deno.writeTextFile(`${work}/crl.pem`, await (await fetch(`${web}/crl.pem`)).text());
          const crl = await openssl(["crl", "-in", "crl.pem", "-noout", "-text"], work);
          assertOk(crl.out.toUpperCase().includes(serial.toUpperCase()), crl.out);
          const check = await openssl(
            ["verify", "-crl_check", "-CAfile", "ca.pem", "-CRLfile", "crl.pem", "cert2.pem"],
            work,
          );
          assertOk(!check.ok && /certificate revoked/.test(check.out), check.out);
          assertEquals(await verify(web, id, `${work}/m2.txt`, `${work}/m2.sig`, stack.dataDir), {
            code: 2,
            verdict: "revoked",
          });
          const audit = JSON.parse(await admin(stack, "audit", "log", id, "--json"));
          const row = audit.find((r: { op: string; outcome: string }) =>
            r.op === "revoke" && r.outcome === "revoked"
          );
          assertEquals([row.actor, row.details.by, row.details.serial], ["web", "user", serial]);
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
