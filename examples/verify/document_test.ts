/**
 * `deno task verify --document` against a directory served here (CA, history, CRL made by
 * the test PKI): a signed PDF and a detached `.p7s` are `valid` (0) with their time-stamp;
 * a byte changed or appended after signing, or another file, is `invalid` (1); a signer
 * revoked after the time-stamp is `revoked` (2) now and `valid` at signing time; a file
 * that is not a PDF without `--signature`, and mixed modes, are usage errors (64).
 */
import { assertEquals, assertOk } from "../../tests/fixtures/assert.ts";
import { makeDocumentPki, samplePdf } from "../../tests/fixtures/document_pki.ts";
import * as x509 from "@peculiar/x509";
import {
  buildSignedAttributes,
  buildSignedData,
  byteRangeParts,
  concatBytes,
  embedCms,
  preparePdf,
  sha256,
} from "../../documents/mod.ts";
import { runVerify } from "./main.ts";

const pki = await makeDocumentPki("alice");
const signerCert = new x509.X509Certificate(pki.signer.der as Uint8Array<ArrayBuffer>);

async function cmsOver(digest: Uint8Array, signingTime?: Date): Promise<Uint8Array> {
  const signedAttributes = await buildSignedAttributes({
    digest,
    certificate: pki.signer.der,
    signingTime,
  });
  const signature = await pki.signer.sign(signedAttributes);
  return buildSignedData({
    signedAttributes,
    signature,
    alg: "pkcs1",
    certificate: pki.signer.der,
    chain: [pki.ca.der],
    timestampToken: await pki.timestamp(signature),
  });
}

/** A directory for alice with `status`, changed at `changedAt`. */
function serve(
  status: "active" | "revoked",
  changedAt: Date | null,
): { url: string; stop(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/ca.pem") return new Response(pki.ca.pem);
    if (path === "/crl.pem") {
      const crl = await x509.X509CrlGenerator.create({
        issuer: "CN=roamsign test CA, O=roamsign",
        thisUpdate: new Date(Date.now() - 60_000),
        nextUpdate: new Date(Date.now() + 3_600_000),
        signingAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        signingKey: pki.ca.keys.privateKey,
        entries: status === "revoked"
          ? [{
            serialNumber: signerCert.serialNumber,
            revocationDate: changedAt!,
            reason: x509.X509CrlReason.cessationOfOperation,
          }]
          : [],
      });
      return new Response(crl.toString("pem").replace(/(BEGIN|END) CRL/g, "$1 X509 CRL"));
    }
    if (path === "/directory/alice/history") {
      return Response.json({
        identity: "alice",
        certificates: [{
          serial: signerCert.serialNumber,
          status,
          notBefore: signerCert.notBefore.toISOString(),
          notAfter: signerCert.notAfter.toISOString(),
          issuedAt: signerCert.notBefore.toISOString(),
          statusChangedAt: changedAt?.toISOString() ?? null,
          certificate: pki.signer.pem,
        }],
      });
    }
    return Response.json({ error: { code: "not_found" } }, { status: 404 });
  });
  const port = (server.addr as Deno.NetAddr).port;
  return { url: `http://127.0.0.1:${port}`, stop: () => server.shutdown() };
}

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runVerify(args, (s) => out.push(s), (s) => err.push(s), {
    dataDir: "/nonexistent",
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const dir = await Deno.makeTempDir({ prefix: "roamsign-verify-doc-" });
const original = await samplePdf(2);
const prepared = await preparePdf(original, new Date());
const signedPdf = embedCms(
  prepared,
  await cmsOver(await sha256(concatBytes(...byteRangeParts(prepared)))),
);
const text = new TextEncoder().encode("Any file at all.\n");
await Deno.writeFile(`${dir}/signed.pdf`, signedPdf);
await Deno.writeFile(`${dir}/file.txt`, text);
await Deno.writeFile(`${dir}/file.txt.p7s`, await cmsOver(await sha256(text), new Date()));
await Deno.writeTextFile(`${dir}/ca.pem`, pki.ca.pem);
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

Deno.test("verify --document: a signed PDF and a detached .p7s are valid, with their time-stamp", async () => {
  const d = serve("active", null);
  try {
    const pdf = await run([
      "--document",
      `${dir}/signed.pdf`,
      "--server",
      d.url,
      "--ca",
      `${dir}/ca.pem`,
    ]);
    assertEquals(pdf.code, 0, pdf.out + pdf.err);
    assertOk(/^valid: the PDF is signed by alice's current key/.test(pdf.out), pdf.out);
    assertOk(/time-stamped: \S+ by the roamsign TSA; at that time: valid/.test(pdf.out), pdf.out);
    const p7s = await run([
      "--document",
      `${dir}/file.txt`,
      "--signature",
      `${dir}/file.txt.p7s`,
      "--server",
      d.url,
      "--ca",
      `${dir}/ca.pem`,
    ]);
    assertEquals(p7s.code, 0, p7s.out + p7s.err);
    const other = await run([
      "--document",
      `${dir}/signed.pdf`,
      "--signature",
      `${dir}/file.txt.p7s`,
      "--server",
      d.url,
      "--ca",
      `${dir}/ca.pem`,
    ]);
    assertEquals(other.code, 1, other.out);
  } finally {
    await d.stop();
  }
});

Deno.test("verify --document: one byte changed, or bytes appended, after signing is invalid (1)", async () => {
  const d = serve("active", null);
  try {
    const changed = signedPdf.slice();
    changed[200] ^= 0x01;
    await Deno.writeFile(`${dir}/changed.pdf`, changed);
    const r = await run([
      "--document",
      `${dir}/changed.pdf`,
      "--server",
      d.url,
      "--ca",
      `${dir}/ca.pem`,
    ]);
    assertEquals(r.code, 1, r.out + r.err);
    await Deno.writeFile(
      `${dir}/appended.pdf`,
      concatBytes(signedPdf, new TextEncoder().encode("\n% more\n")),
    );
    const a = await run([
      "--document",
      `${dir}/appended.pdf`,
      "--server",
      d.url,
      "--ca",
      `${dir}/ca.pem`,
    ]);
    assertEquals(a.code, 1, a.out + a.err);
    assertOk(/changed after it was signed/.test(a.out), a.out);
  } finally {
    await d.stop();
  }
});

Deno.test("verify --document: revoked after the time-stamp is revoked now (2), valid at signing time", async () => {
  const d = serve("revoked", new Date(Date.now() + 1_000));
  try {
    const r = await run([
      "--document",
      `${dir}/signed.pdf`,
      "--server",
      d.url,
      "--ca",
      `${dir}/ca.pem`,
      "--json",
    ]);
    assertEquals(r.code, 2, r.out + r.err);
    const j = JSON.parse(r.out);
    assertEquals(j.verdict, "revoked");
    assertEquals(j.atSigningTime, "valid");
  } finally {
    await d.stop();
  }
});

Deno.test("verify --document: not a PDF without --signature, and mixed modes, are usage errors (64)", async () => {
  const r = await run(["--document", `${dir}/file.txt`, "--server", "http://127.0.0.1:9"]);
  assertEquals(r.code, 64, r.err);
  assertOk(/not_a_pdf/.test(r.err), r.err);
  const mixed = await run(["--document", `${dir}/signed.pdf`, "--identity", "alice"]);
  assertEquals(mixed.code, 64);
});
