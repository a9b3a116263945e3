/**
 * PAdES building: the incremental update keeps the original bytes, `qpdf --check` finds
 * no error, `pdfsig` reports the signature valid (and the certificate trusted with an
 * NSS database that trusts the CA), a changed byte is caught, and what is not a PDF, an
 * encrypted PDF and an empty file are refused with their codes.
 */
import { assert, assertEquals } from "../tests/fixtures/assert.ts";
import {
  haveTool,
  makeDocumentPki,
  nssDbTrusting,
  runTool,
  samplePdf,
} from "../tests/fixtures/document_pki.ts";
import {
  buildSignedAttributes,
  buildSignedData,
  byteRangeParts,
  checkDocumentSize,
  checkSignerInfo,
  concatBytes,
  DocumentError,
  embedCms,
  pdfPageCount,
  pdfSignatureFields,
  preparePdf,
  sha256,
  signedDataOf,
} from "./mod.ts";

const pki = await makeDocumentPki("alice");
const tools = (await haveTool("pdfsig")) && (await haveTool("qpdf"));

async function signPdf(original: Uint8Array, timestamp = true): Promise<Uint8Array> {
  const prepared = await preparePdf(original, new Date());
  const digest = await sha256(concatBytes(...byteRangeParts(prepared)));
  const signedAttributes = await buildSignedAttributes({ digest, certificate: pki.signer.der });
  const signature = await pki.signer.sign(signedAttributes);
  const cms = buildSignedData({
    signedAttributes,
    signature,
    alg: "pkcs1",
    certificate: pki.signer.der,
    chain: [pki.ca.der],
    timestampToken: timestamp ? await pki.timestamp(signature) : undefined,
  });
  return embedCms(prepared, cms);
}

async function code(run: () => Promise<unknown> | unknown): Promise<string | undefined> {
  try {
    await run();
  } catch (err) {
    return err instanceof DocumentError ? err.code : `other: ${err}`;
  }
  return undefined;
}

for (const version of ["1.4", "1.7"] as const) {
  Deno.test(`preparePdf() keeps the original bytes and covers all but /Contents (PDF ${version}, xref ${version === "1.4" ? "table" : "stream"})`, async () => {
    const original = await samplePdf(3, version);
    const signed = await signPdf(original);
    assertEquals(signed.subarray(0, original.length), original);
    const [field] = await pdfSignatureFields(signed);
    assertEquals(field.subFilter, "ETSI.CAdES.detached");
    const [a, l1, b, l2] = field.byteRange;
    assertEquals(a, 0);
    assertEquals(b + l2, signed.length);
    assertEquals(signed[l1], 0x3c); // "<" of /Contents
    assertEquals(signed[b - 1], 0x3e); // ">"
    const digest = await sha256(
      concatBytes(...byteRangeParts({ bytes: signed, byteRange: field.byteRange })),
    );
    const check = await checkSignerInfo(signedDataOf(field.cms), digest);
    assert(check.valid, check.problem);
    assert(check.timestampToken, "B-T: no time-stamp token");
    assertEquals(check.signingTime, undefined); // PAdES: the time is /M, not signing-time
    assertEquals(await pdfPageCount(signed), 3);
  });
}

Deno.test({
  name: "qpdf --check and pdfsig accept a signed PDF; pdfsig with the CA in NSS says trusted",
  ignore: !tools,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "roamsign-pades-" });
    try {
      for (const version of ["1.4", "1.7"] as const) {
        const file = `${dir}/signed-${version}.pdf`;
        await Deno.writeFile(file, await signPdf(await samplePdf(2, version)));
        const q = await runTool("qpdf", ["--check", file]);
        assert(q.ok && /No syntax or stream encoding errors/.test(q.out), q.out);
        const nss = await Deno.makeTempDir({ dir });
        await nssDbTrusting(nss, pki.ca.pem);
        const p = await runTool("pdfsig", ["-nssdir", `sql:${nss}`, file]);
        assert(/Signature Validation: Signature is Valid/.test(p.out), p.out);
        assert(/Signer Certificate Common Name: alice/.test(p.out), p.out);
        assert(/Certificate Validation: Certificate is Trusted/.test(p.out), p.out);
        assert(/Signature Type: ETSI.CAdES.detached/.test(p.out), p.out);
        assert(/Total document signed/.test(p.out), p.out);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "one byte changed after signing: our check and pdfsig say invalid",
  ignore: !tools,
  fn: async () => {
    const signed = await signPdf(await samplePdf(1, "1.4"), false);
    const at = signed.indexOf(0x28); // the first "(" of a string in the original page
    signed[at + 1] ^= 0x01;
    const [field] = await pdfSignatureFields(signed);
    const digest = await sha256(
      concatBytes(...byteRangeParts({ bytes: signed, byteRange: field.byteRange })),
    );
    const check = await checkSignerInfo(signedDataOf(field.cms), digest);
    assert(!check.valid && /message digest/.test(check.problem!), check.problem);
    const dir = await Deno.makeTempDir({ prefix: "roamsign-pades-" });
    await Deno.writeFile(`${dir}/bad.pdf`, signed);
    const p = await runTool("pdfsig", [`${dir}/bad.pdf`]);
    assert(!/Signature is Valid/.test(p.out) && /Signature Validation:/.test(p.out), p.out);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("bad input is refused with its code: not a PDF, encrypted, empty, over 25 MiB", async () => {
  assertEquals(
    await code(() => preparePdf(new TextEncoder().encode("hello, not a pdf"), new Date())),
    "not_a_pdf",
  );
  assertEquals(
    await code(() => pdfPageCount(new TextEncoder().encode("%PDF-1.7\ngarbage"))),
    "bad_pdf",
  );
  assertEquals(await code(() => checkDocumentSize(0)), "empty_document");
  assertEquals(await code(() => checkDocumentSize(25 * 1024 * 1024 + 1)), "document_too_large");
  assertEquals(await code(() => checkDocumentSize(25 * 1024 * 1024)), undefined);
  if (await haveTool("qpdf")) {
    const dir = await Deno.makeTempDir({ prefix: "roamsign-pades-" });
    await Deno.writeFile(`${dir}/plain.pdf`, await samplePdf(1));
    const r = await runTool("qpdf", [
      "--encrypt",
      "user",
      "owner",
      "256",
      "--",
      `${dir}/plain.pdf`,
      `${dir}/enc.pdf`,
    ]);
    assert(r.ok, r.out);
    const enc = await Deno.readFile(`${dir}/enc.pdf`);
    assertEquals(await code(() => preparePdf(enc, new Date())), "encrypted_pdf");
    await Deno.remove(dir, { recursive: true });
  }
});
