/// <reference lib="dom" />
/**
 * Passkeys in Debian Chromium (docs/passkeys.md) with the DevTools protocol's virtual
 * authenticator (`WebAuthn.addVirtualAuthenticator`: ctap2, internal, resident keys,
 * user verification, `hasPrf`), on `http://localhost:PORT` (WebAuthn refuses IP
 * origins): a v1 user signs in with the pass phrase and its record is upgraded; "Add a
 * passkey" (pass phrase again); sign out; "Sign in with a passkey" with the identity left
 * empty; sign, and `openssl` verifies the signature with the directory's certificate;
 * re-register with a new pass phrase, and the passkey still signs in, now to the new key
 * (`openssl` verifies with the new certificate); "Remove" (pass phrase again); the
 * authenticator removed, the pass phrase still signs in; an authenticator without PRF →
 * a clear alert and no passkey stored.
 */
import { assert, assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch } from "../fixtures/browser.ts";
import { startStack } from "../../harness/mod.ts";
import {
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  outcome,
  reregisterInPage,
  signInInPage,
  signInPageMessage,
} from "./_applet.ts";
import { addAuthenticator, addPasskeyInPage, signInWithPasskeyInPage } from "./_passkeys.ts";
import { consentFromDeno, session } from "./_deno_client.ts";
import { applyToRegister } from "../../applet/mod.ts";
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT, utf8 } from "../../protocol/mod.ts";
import type { Page } from "playwright-core";

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByRole("tab", { name: "Sign in" }).waitFor();
}

async function openssl(args: string[], cwd: string) {
  const r = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  return {
    ok: r.success,
    out: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr),
  };
}

/**
 * Signs `message` in the page and has `openssl dgst -verify` check the signature with the
 * certificate the directory publishes now; returns that certificate's PEM.
 */
async function signAndVerify(
  page: Page,
  webUrl: string,
  identity: string,
  message: string,
  work: string,
): Promise<string> {
  const signature = await signInPageMessage(page, message);
  await Deno.writeFile(`${work}/sig.bin`, Uint8Array.from(atob(signature), (c) => c.charCodeAt(0)));
  await Deno.writeFile(`${work}/message.txt`, utf8(message));
  const res = await fetch(`${webUrl}/directory/${identity}?format=pem`);
  const pem = await res.text();
  await Deno.writeTextFile(`${work}/cert.pem`, pem);
  const pub = await openssl(
    ["x509", "-in", "cert.pem", "-pubkey", "-noout", "-out", "pub.pem"],
    work,
  );
  assertOk(pub.ok, pub.out);
  const ok = await openssl(
    ["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.bin", "message.txt"],
    work,
  );
  assertOk(ok.ok && ok.out.includes("Verified OK"), ok.out);
  return pem;
}

Deno.test({
  name:
    "[slow] passkeys in Chromium: upgrade, add, sign in with it, sign, re-register, remove, no PRF",
  ignore: Deno.env.get("ROAMSIGN_SLOW_TESTS") !== "1" || !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ web: true, ksf: KSF_DEFAULT });
    const url = `http://localhost:${new URL(stack.webUrl!).port}/`;
    const browser = await launch();
    const work = await Deno.makeTempDir({ prefix: "roamsign-passkeys-" });
    try {
      // A user whose record is v1, as applets made it before passkeys.
      const r = newUser("pkb");
      let pass = `correct horse battery ${r.identity}`;
      const s = await session(stack.webUrl!);
      await applyToRegister(s, {
        registration: r,
        passphrase: utf8(pass),
        bits: 2048,
        recordVersion: 1,
      });
      await s.close();
      await consentFromDeno(stack.webUrl!, r, await consentPhraseFor(stack, r.identity));

      const context = await browser.newContext();
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("WebAuthn.enable", { enableUI: false });
      let authenticatorId = await addAuthenticator(cdp, true);
      assertEquals(await openApplet(page, url), "ready");

      await t.step("a v1 record is upgraded at its pass-phrase sign-in", async () => {
        assertEquals(await signInInPage(page, r.identity, pass), null);
        const { entries } = await stack.adminClient().call("admin.audit", {
          identity: r.identity,
        }) as { entries: { op: string; outcome: string }[] };
        assert(entries.some((e) => e.op === "keyrecord.upgrade" && e.outcome === "upgraded"));
      });

      await t.step("add a passkey: pass phrase again, then the authenticator", async () => {
        assertEquals(await addPasskeyInPage(page, "Laptop", pass), null);
        const table = page.getByRole("table", { name: "Passkeys" });
        await table.getByText("Laptop").waitFor();
        const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
        assertEquals(credentials.length, 1);
      });

      let oldCertificate = "";
      await t.step("sign out, sign in with the passkey (no identity), sign", async () => {
        await signOut(page);
        assertEquals(await signInWithPasskeyInPage(page), null);
        oldCertificate = await signAndVerify(
          page,
          stack.webUrl!,
          r.identity,
          `pay 10.00 to bob, ${r.identity}`,
          work,
        );
      });

      await t.step(
        "re-register with a new pass phrase: the passkey still signs in, to the new key",
        async () => {
          const next = newPassphrase();
          assertEquals(await reregisterInPage(page, next, pass), null);
          const said = await page.getByRole("status").textContent();
          assertOk(
            /passkey still works.*remove any you do not recognise/.test(said ?? ""),
            `status: ${said}`,
          );
          pass = next;
          await signOut(page);
          assertEquals(await signInWithPasskeyInPage(page), null);
          const newCertificate = await signAndVerify(
            page,
            stack.webUrl!,
            r.identity,
            `pay 20.00 to bob, ${r.identity}`,
            work,
          );
          assert(newCertificate !== oldCertificate, "the directory has the new certificate");
          // The same signature does not verify with the superseded certificate's key.
          await Deno.writeTextFile(`${work}/cert.pem`, oldCertificate);
          assertOk(
            (await openssl(
              ["x509", "-in", "cert.pem", "-pubkey", "-noout", "-out", "pub.pem"],
              work,
            )).ok,
            "old certificate",
          );
          const old = await openssl(
            ["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.bin", "message.txt"],
            work,
          );
          assertOk(!old.ok && !old.out.includes("Verified OK"), old.out);
        },
      );

      await t.step("remove the passkey (pass phrase again)", async () => {
        const form = page.getByRole("form", { name: "Remove passkey Laptop" });
        await form.getByLabel("Current pass phrase", { exact: true }).fill(pass);
        await form.getByRole("button", { name: "Remove", exact: true }).click();
        assertEquals(await outcome(page, /removed/), null);
        await page.getByText("No passkeys yet.").waitFor();
      });

      await t.step("the authenticator gone, the pass phrase still signs in", async () => {
        await signOut(page);
        await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
        assertEquals(await signInInPage(page, r.identity, pass), null);
      });

      await t.step("an authenticator without PRF: a clear alert, nothing stored", async () => {
        authenticatorId = await addAuthenticator(cdp, false);
        const alert = await addPasskeyInPage(page, "No PRF key", pass);
        assertOk(alert && /PRF/.test(alert), `expected the PRF alert, got ${alert}`);
        await page.getByText("No passkeys yet.").waitFor();
        const { passkeys } = await stack.webClient().call("passkey.list", {
          identity: r.identity,
        }) as { passkeys: unknown[] };
        assertEquals(passkeys.length, 0);
      });
      await context.close();
    } finally {
      await browser.close();
      await stack.stop();
      await Deno.remove(work, { recursive: true }).catch(() => undefined);
    }
  },
});
