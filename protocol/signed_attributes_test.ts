/**
 * Domain separation between document signatures, protocol structures and free-form
 * messages (docs/documents.md): the attributes roamsign builds pass; a bare hash, a
 * protocol structure, another certificate, an extra or repeated attribute, an unsorted
 * SET and trailing bytes are refused; and a message that is a signed-attributes SET is
 * reserved while ordinary text (even text starting with "1", the byte 0x31) is not.
 */
import { assert, assertEquals } from "../tests/fixtures/assert.ts";
import { makeDocumentPki } from "../tests/fixtures/document_pki.ts";
import {
  AttributeSet,
  attributeSet,
  buildSignedAttributes,
  der,
  oidValue,
  sha256,
} from "../documents/mod.ts";
import { Attribute } from "@peculiar/asn1-cms";
import { checkSignedAttributes, isReservedMessage, isSignedAttributesLike, utf8 } from "./mod.ts";

const pki = await makeDocumentPki("alice");
const other = await makeDocumentPki("mallory");
const digest = await sha256(utf8("contract"));

async function refused(der: Uint8Array, cert = pki.signer.der): Promise<string> {
  try {
    await checkSignedAttributes(der, cert);
  } catch (err) {
    return (err as { code?: string }).code ?? "other";
  }
  return "accepted";
}

Deno.test("checkSignedAttributes() accepts what buildSignedAttributes() makes, with and without signing-time", async () => {
  const cades = await buildSignedAttributes({
    digest,
    certificate: pki.signer.der,
    signingTime: new Date(),
  });
  const r = await checkSignedAttributes(cades, pki.signer.der);
  assertEquals(r.messageDigest, digest);
  assert(r.signingTime);
  const pades = await buildSignedAttributes({ digest, certificate: pki.signer.der });
  assert(!(await checkSignedAttributes(pades, pki.signer.der)).signingTime);
});

Deno.test("checkSignedAttributes() refuses a bare hash, protocol bytes and trailing bytes", async () => {
  assertEquals(await refused(digest), "bad_signed_attributes");
  assertEquals(await refused(utf8('["roamsign/request/v1","revoke"]')), "bad_signed_attributes");
  assertEquals(await refused(utf8("roamsign debit instruction v2\n")), "bad_signed_attributes");
  const good = await buildSignedAttributes({ digest, certificate: pki.signer.der });
  const trailing = new Uint8Array([...good, 0]);
  assertEquals(await refused(trailing), "bad_signed_attributes");
});

Deno.test("checkSignedAttributes() refuses attributes naming another certificate", async () => {
  const theirs = await buildSignedAttributes({ digest, certificate: other.signer.der });
  assertEquals(await refused(theirs), "bad_signed_attributes");
});

Deno.test("checkSignedAttributes() refuses an extra, a repeated or a missing attribute, and an unsorted SET", async () => {
  const good = await buildSignedAttributes({ digest, certificate: pki.signer.der });
  const { AsnConvert } = await import("@peculiar/asn1-schema");
  const attrs = Array.from(AsnConvert.parse(good.slice().buffer, AttributeSet));
  const extra = new Attribute({
    attrType: "1.2.840.113549.1.9.16.2.12",
    attrValues: [oidValue("1.2.3").slice().buffer],
  });
  assertEquals(await refused(attributeSet([...attrs, extra])), "bad_signed_attributes");
  const again = attributeSet([...attrs, attrs[0]]);
  assertEquals(await refused(again), "bad_signed_attributes");
  const missing = attributeSet(attrs.filter((a) => a.attrType !== "1.2.840.113549.1.9.4"));
  assertEquals(await refused(missing), "bad_signed_attributes");
  const unsorted = der(new AttributeSet([...attrs].reverse()));
  assertEquals(await refused(unsorted), "bad_signed_attributes");
});

Deno.test("isReservedMessage() reserves a signed-attributes SET but not text beginning with '1'", async () => {
  const attrs = await buildSignedAttributes({
    digest,
    certificate: pki.signer.der,
    signingTime: new Date(),
  });
  assert(isSignedAttributesLike(attrs));
  assert(isReservedMessage(attrs));
  for (const text of ["1 apple and 3 pears for the kids.", "1", "1\u0000", "100 GBP to Bob"]) {
    assert(!isReservedMessage(utf8(text)), text);
  }
});
