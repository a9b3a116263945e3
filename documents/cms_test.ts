/**
 * CMS building: the signed attributes in DER order with the attributes CAdES asks for,
 * a detached SignedData that `openssl cms -verify` accepts (PKCS#1 v1.5 and PSS), a
 * time-stamp token that `openssl ts -verify` accepts, and our own checks refusing
 * changed content, a changed signature and a token over other bytes.
 */
import { assert, assertEquals } from "../tests/fixtures/assert.ts";
import { makeDocumentPki, runTool } from "../tests/fixtures/document_pki.ts";
import {
  buildSignedAttributes,
  buildSignedData,
  checkSignerInfo,
  checkTimeStampToken,
  OID,
  sha256,
  signedDataOf,
} from "./mod.ts";

const pki = await makeDocumentPki("alice");
const content = new TextEncoder().encode("I, Alice, agree to the terms of the contract.\n");

async function detached(alg: "pkcs1" | "pss", timestamp = true): Promise<Uint8Array> {
  const signedAttributes = await buildSignedAttributes({
    digest: await sha256(content),
    certificate: pki.signer.der,
    signingTime: new Date(),
  });
  const signature = alg === "pss"
    ? await pki.signer.signPss(signedAttributes)
    : await pki.signer.sign(signedAttributes);
  return buildSignedData({
    signedAttributes,
    signature,
    alg,
    certificate: pki.signer.der,
    chain: [pki.ca.der],
    timestampToken: timestamp ? await pki.timestamp(signature) : undefined,
  });
}

async function tmpFiles(files: Record<string, Uint8Array | string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "roamsign-cms-" });
  for (const [name, v] of Object.entries(files)) {
    if (typeof v === "string") await Deno.writeTextFile(`${dir}/${name}`, v);
    else await Deno.writeFile(`${dir}/${name}`, v);
  }
  return dir;
}

Deno.test("buildSignedAttributes() writes a DER SET sorted by encoding with the CAdES attributes", async () => {
  const attrs = await buildSignedAttributes({
    digest: new Uint8Array(32).fill(7),
    certificate: pki.signer.der,
    signingTime: new Date("2026-01-02T03:04:05.678Z"),
  });
  assertEquals(attrs[0], 0x31);
  const dir = await tmpFiles({ "attrs.der": attrs });
  const r = await runTool("openssl", ["asn1parse", "-inform", "DER", "-in", `${dir}/attrs.der`]);
  assert(r.ok, r.out);
  for (const name of ["contentType", "messageDigest", "signingTime", "signingCertificateV2"]) {
    assert(r.out.includes(name), `${name} missing:\n${r.out}`);
  }
  assert(r.out.includes("UTCTIME           :260102030405Z"), r.out);
});

Deno.test("buildSignedAttributes() refuses a digest that is not SHA-256", async () => {
  let threw = false;
  try {
    await buildSignedAttributes({ digest: new Uint8Array(20), certificate: pki.signer.der });
  } catch {
    threw = true;
  }
  assert(threw);
});

for (const alg of ["pkcs1", "pss"] as const) {
  Deno.test(`a detached CMS (${alg}) verifies with openssl cms -verify against the CA`, async () => {
    const cms = await detached(alg);
    const dir = await tmpFiles({ "doc.txt": content, "doc.p7s": cms, "ca.pem": pki.ca.pem });
    const r = await runTool("openssl", [
      "cms",
      "-verify",
      "-binary",
      "-inform",
      "DER",
      "-in",
      `${dir}/doc.p7s`,
      "-content",
      `${dir}/doc.txt`,
      "-CAfile",
      `${dir}/ca.pem`,
      "-purpose",
      "any",
      "-out",
      "/dev/null",
    ]);
    assert(r.ok && r.out.includes("Verification successful"), r.out);
    const changed = content.slice();
    changed[0] ^= 1;
    await Deno.writeFile(`${dir}/doc.txt`, changed);
    const bad = await runTool("openssl", [
      "cms",
      "-verify",
      "-binary",
      "-inform",
      "DER",
      "-in",
      `${dir}/doc.p7s`,
      "-content",
      `${dir}/doc.txt`,
      "-CAfile",
      `${dir}/ca.pem`,
      "-purpose",
      "any",
      "-out",
      "/dev/null",
    ]);
    assert(!bad.ok, "openssl accepted changed content");
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("checkSignerInfo() accepts the content signed and refuses other content or a changed signature", async () => {
  const cms = await detached("pkcs1", false);
  const ok = await checkSignerInfo(signedDataOf(cms), await sha256(content));
  assert(ok.valid, ok.problem);
  assertEquals(ok.alg, "pkcs1");
  assert(await ok.issuedBy(pki.ca.der));
  assert(!(await ok.issuedBy(pki.signer.der)));
  const other = await checkSignerInfo(signedDataOf(cms), await sha256(new Uint8Array([1])));
  assert(!other.valid && /message digest/.test(other.problem!), other.problem);
  const tampered = cms.slice();
  const sigAt = tampered.length - 10; // inside the signature value (the last field)
  tampered[sigAt] ^= 0x01;
  const bad = await checkSignerInfo(signedDataOf(tampered), await sha256(content));
  assert(!bad.valid && /does not verify/.test(bad.problem!), bad.problem);
});

Deno.test("a time-stamp token verifies with openssl ts -verify and with checkTimeStampToken()", async () => {
  const cms = await detached("pkcs1");
  const signer = await checkSignerInfo(signedDataOf(cms), await sha256(content));
  assert(signer.timestampToken, "no token embedded");
  const token = signer.timestampToken!;
  const check = await checkTimeStampToken(token, signer.signature, pki.ca.der);
  assert(check.valid, check.problem);
  assert(Math.abs(check.genTime.getTime() - Date.now()) < 60_000);
  const wrong = await checkTimeStampToken(token, new Uint8Array([1, 2, 3]), pki.ca.der);
  assert(!wrong.valid && /other bytes/.test(wrong.problem!));
  const foreign = await makeDocumentPki("mallory");
  const otherCa = await checkTimeStampToken(token, signer.signature, foreign.ca.der);
  assert(!otherCa.valid && /not from this CA/.test(otherCa.problem!));

  const dir = await tmpFiles({
    "sig.bin": signer.signature,
    "token.der": token,
    "ca.pem": pki.ca.pem,
    "tsa.pem": pki.tsa.pem,
  });
  const r = await runTool("openssl", [
    "ts",
    "-verify",
    "-token_in",
    "-in",
    `${dir}/token.der`,
    "-data",
    `${dir}/sig.bin`,
    "-CAfile",
    `${dir}/ca.pem`,
    "-untrusted",
    `${dir}/tsa.pem`,
  ]);
  assert(r.ok && r.out.includes("Verification: OK"), r.out);
  const info = await runTool("openssl", [
    "ts",
    "-reply",
    "-token_in",
    "-in",
    `${dir}/token.der`,
    "-token_out",
    "-text",
  ]);
  assert(info.out.includes(OID.tsaPolicy) || info.out.includes("Policy OID"), info.out);
  await Deno.remove(dir, { recursive: true });
});
