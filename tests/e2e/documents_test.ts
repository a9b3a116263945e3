/// <reference lib="dom" />
/**
 * Signing documents in Chromium against real processes (issue 17, docs/documents.md):
 * the first page load — and signing in — does not fetch the document bundle, opening
 * "Sign a document" does; a PDF signed in the page passes `qpdf --check` and `pdfsig`
 * (valid, signer named, trusted with an NSS database that trusts the CA), its `.p7s`
 * passes `openssl cms -verify` with the CA, the embedded token `openssl ts -verify`, and
 * `deno task verify --document` says valid; an arbitrary file gets only a `.p7s`; no
 * request carries anything the size of the document; a file named .pdf that is not one
 * and an empty file are refused before anything is sent.
 */
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";
import { Buffer } from "node:buffer";
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { haveTool, nssDbTrusting, runTool, samplePdf } from "../fixtures/document_pki.ts";
import { startStack } from "../../harness/mod.ts";
import type { Manifest } from "../../server/mod.ts";
import { checkSignerInfo, checkTimeStampToken, sha256, signedDataOf } from "../../documents/mod.ts";
import { pemDecode, pemEncode, toHex } from "../../protocol/mod.ts";
import type { Page } from "playwright-core";
import {
  applyInPage,
  consentInPage,
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  outcome,
  signInInPage,
} from "./_applet.ts";

/** Chooses `bytes` as `name` in the Document field and waits for the SHA-256 shown. */
async function choose(page: Page, name: string, mimeType: string, bytes: Uint8Array) {
  await page.getByLabel("Document", { exact: true }).setInputFiles({
    name,
    mimeType,
    buffer: Buffer.from(bytes),
  });
}

/** Signs the chosen document; returns the files offered for download by link text. */
async function signChosen(
  page: Page,
  dir: string,
  links: string[],
): Promise<Record<string, string>> {
  await page.getByRole("button", { name: "Sign document", exact: true }).click();
  const err = await outcome(page, /Document signed/, 120_000);
  if (err) throw new Error(`signing failed: ${err}`);
  const saved: Record<string, string> = {};
  for (const name of links) {
    const [dl] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name, exact: true }).click(),
    ]);
    const path = `${dir}/${dl.suggestedFilename()}`;
    await dl.saveAs(path);
    saved[name] = path;
  }
  return saved;
}

Deno.test({
  name:
    "[slow] documents: lazy bundle, PDF and any file signed in the page, checked by pdfsig, qpdf, openssl",
  ignore: !haveChromium() || !(await haveTool("pdfsig")) || !(await haveTool("qpdf")),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ web: true, ksf: KSF_DEFAULT });
    const web = stack.webUrl!;
    const browser = await launch();
    const dir = await Deno.makeTempDir({ prefix: "roamsign-e2e-doc-" });
    try {
      const manifest: Manifest = await (await fetch(`${web}/.well-known/roamsign/manifest.json`))
        .json();
      const bundle = manifest.entries.documents;
      assertOk(/^\/applet\/[0-9a-f]{64}\.js$/.test(bundle), bundle);
      const caPem = await Deno.readTextFile(`${stack.dataDir}/ca.pem`);
      await Deno.writeTextFile(`${dir}/ca.pem`, caPem);
      const context = await browser.newContext({ acceptDownloads: true });
      const requests: { path: string; size: number }[] = [];
      context.on("request", (r) => {
        requests.push({ path: new URL(r.url()).pathname, size: r.postDataBuffer()?.length ?? 0 });
      });
      const { page, violations } = await pageWithCspRecorder(context);
      const user = newUser("doc");
      const pass = newPassphrase();
      const fetched = () => requests.some((r) => r.path === bundle);

      await t.step(
        "neither the first load nor signing in fetches the document bundle",
        async () => {
          assertEquals(await openApplet(page, web), "ready");
          await page.waitForLoadState("networkidle");
          assertOk(!fetched(), "fetched at load");
          assertEquals(await applyInPage(page, user, pass), null);
          assertEquals(
            await consentInPage(page, user, await consentPhraseFor(stack, user.identity)),
            null,
          );
          assertEquals(await signInInPage(page, user.identity, pass), null);
          await page.waitForTimeout(300);
          assertOk(!fetched(), "fetched before 'Sign a document' was opened");
        },
      );

      await t.step("opening 'Sign a document' fetches it", async () => {
        const loading = page.waitForRequest((r) => new URL(r.url()).pathname === bundle);
        await page.getByText("Sign a document", { exact: true }).click();
        await loading;
      });

      const pdf = await samplePdf(3);
      await Deno.writeFile(`${dir}/contract.pdf`, pdf);
      let saved: Record<string, string> = {};
      await t.step("a PDF: name, size, SHA-256, pages shown; signed PDF and .p7s", async () => {
        await choose(page, "contract.pdf", "application/pdf", pdf);
        await page.locator("#document-sha256").filter({ hasText: toHex(await sha256(pdf)) })
          .waitFor();
        assertEquals(await page.locator("#document-pages").textContent(), "3");
        const before = requests.length;
        saved = await signChosen(page, dir, ["Download signed PDF", "Download signature (.p7s)"]);
        const sent = requests.slice(before).filter((r) => r.path.startsWith("/api/"));
        assertOk(sent.length > 0, "nothing was sent");
        assertOk(sent.every((r) => r.size < 8_192), `a large request: ${JSON.stringify(sent)}`);
      });

      await t.step(
        "qpdf --check, pdfsig (valid, signer, trusted), openssl cms and ts",
        async () => {
          const signed = saved["Download signed PDF"];
          const q = await runTool("qpdf", ["--check", signed]);
          assertOk(q.ok && /No syntax or stream encoding errors/.test(q.out), q.out);
          const nss = await Deno.makeTempDir({ dir });
          await nssDbTrusting(nss, caPem);
          const p = await runTool("pdfsig", ["-nssdir", `sql:${nss}`, signed]);
          console.log(p.out);
          assertOk(/Signature Validation: Signature is Valid/.test(p.out), p.out);
          assertOk(
            new RegExp(`Signer Certificate Common Name: ${user.identity}`).test(p.out),
            p.out,
          );
          assertOk(/Certificate Validation: Certificate is Trusted/.test(p.out), p.out);
          const c = await runTool("openssl", [
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            saved["Download signature (.p7s)"],
            "-content",
            `${dir}/contract.pdf`,
            "-CAfile",
            `${dir}/ca.pem`,
            "-out",
            "/dev/null",
          ]);
          console.log(c.out);
          assertOk(c.ok && /Verification successful/.test(c.out), c.out);
          const p7s = await Deno.readFile(saved["Download signature (.p7s)"]);
          const signer = await checkSignerInfo(signedDataOf(p7s), await sha256(pdf));
          assertOk(signer.valid && signer.timestampToken, signer.problem ?? "no token");
          await Deno.writeFile(`${dir}/token.der`, signer.timestampToken!);
          await Deno.writeFile(`${dir}/sigvalue.bin`, signer.signature);
          const tsa = await checkTimeStampToken(
            signer.timestampToken!,
            signer.signature,
            pemDecode(caPem),
          );
          assertOk(tsa.valid, tsa.problem);
          await Deno.writeTextFile(`${dir}/tsa.pem`, pemEncode(tsa.tsaCertificate!));
          const ts = await runTool("openssl", [
            "ts",
            "-verify",
            "-token_in",
            "-in",
            `${dir}/token.der`,
            "-data",
            `${dir}/sigvalue.bin`,
            "-CAfile",
            `${dir}/ca.pem`,
            "-untrusted",
            `${dir}/tsa.pem`,
          ]);
          assertOk(ts.ok && /Verification: OK/.test(ts.out), ts.out);
        },
      );

      await t.step("deno task verify --document says valid for both", async () => {
        const verify = (args: string[]) =>
          runTool(Deno.execPath(), [
            "run",
            "--allow-net",
            "--allow-read",
            "--allow-env",
            "examples/verify/main.ts",
            "--server",
            web,
            "--ca",
            `${dir}/ca.pem`,
            ...args,
          ]);
        const a = await verify(["--document", saved["Download signed PDF"]]);
        assertEquals(a.code, 0, a.out);
        assertOk(/^valid: the PDF is signed by/.test(a.out), a.out);
        const b = await verify([
          "--document",
          `${dir}/contract.pdf`,
          "--signature",
          saved["Download signature (.p7s)"],
        ]);
        assertEquals(b.code, 0, b.out);
      });

      await t.step("an arbitrary file gets a .p7s only, which openssl accepts", async () => {
        const text = new Uint8Array(300_000).map((_, i) => (i * 7919 + 13) % 251);
        await Deno.writeFile(`${dir}/data.bin`, text);
        await choose(page, "data.bin", "application/octet-stream", text);
        await page.locator("#document-sha256").filter({ hasText: toHex(await sha256(text)) })
          .waitFor();
        const before = requests.length;
        const files = await signChosen(page, dir, ["Download signature (.p7s)"]);
        assertEquals(await page.getByRole("link", { name: "Download signed PDF" }).count(), 0);
        const sent = requests.slice(before).filter((r) => r.path.startsWith("/api/"));
        assertOk(sent.every((r) => r.size < 8_192), "the file travelled");
        const c = await runTool("openssl", [
          "cms",
          "-verify",
          "-binary",
          "-inform",
          "DER",
          "-in",
          files["Download signature (.p7s)"],
          "-content",
          `${dir}/data.bin`,
          "-CAfile",
          `${dir}/ca.pem`,
          "-out",
          "/dev/null",
        ]);
        assertOk(c.ok, c.out);
      });

      await t.step("not a PDF named .pdf, and an empty file: refused, nothing sent", async () => {
        const ops = () => stack.proxy.lines.filter((l) => /"op":"tsa\.timestamp"/.test(l)).length;
        const before = ops();
        await choose(page, "fake.pdf", "application/pdf", new TextEncoder().encode("not a pdf"));
        await page.getByRole("alert").filter({ hasText: "is not a PDF" }).waitFor();
        await page.getByRole("button", { name: "Sign document", exact: true }).click();
        await page.getByRole("alert").filter({ hasText: "is not a PDF" }).waitFor();
        await choose(page, "empty.txt", "text/plain", new Uint8Array());
        await page.getByRole("alert").filter({ hasText: "The file is empty" }).waitFor();
        assertEquals(ops(), before, "a time-stamp was asked for");
      });
      assertEquals(await violations(), [], "CSP or Trusted Types violations");
    } finally {
      await browser.close();
      await stack.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
