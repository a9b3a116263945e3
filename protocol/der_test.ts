import { assertEquals, assertThrows } from "../tests/fixtures/assert.ts";
import { makeTestCa, oaepSpki, x509 } from "../tests/fixtures/test_ca.ts";
import {
  certificateDetails,
  DerError,
  KEY_USAGE,
  OID_SHA256_WITH_RSA,
  parseCertificate,
  pemDecode,
  pemEncode,
} from "./der.ts";

Deno.test("parseCertificate() extracts SPKI, TBS and signature that @peculiar/x509 agrees with", async () => {
  const ca = await makeTestCa();
  const spki = await oaepSpki();
  const pem = await ca.issue(spki, "conf");
  const parts = parseCertificate(pemDecode(pem));
  assertEquals(Array.from(parts.spki), Array.from(spki));
  assertEquals(parts.signatureAlgorithm, OID_SHA256_WITH_RSA);
  assertEquals(parts.serialHex, "0a1b2c");
  const ok = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    ca.keys.publicKey,
    parts.signature as BufferSource,
    parts.tbs as BufferSource,
  );
  assertEquals(ok, true);
  const viaLib = new x509.X509Certificate(pem);
  assertEquals(Array.from(parts.spki), Array.from(new Uint8Array(viaLib.publicKey.rawData)));
});

Deno.test("parseCertificate() rejects trailing bytes, truncation and non-certificates", async () => {
  const ca = await makeTestCa();
  const der = pemDecode(ca.pem);
  const trailing = new Uint8Array(der.length + 1);
  trailing.set(der);
  assertThrows(() => parseCertificate(trailing), DerError);
  assertThrows(() => parseCertificate(der.subarray(0, der.length - 1)), DerError);
  assertThrows(() => parseCertificate(new Uint8Array([0x30, 0x00])), DerError);
  assertThrows(() => parseCertificate(new Uint8Array([0x30, 0x81, 0x05, 1, 2, 3, 4, 5])), DerError);
});

Deno.test("pemEncode() and pemDecode() round-trip", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(300));
  assertEquals(Array.from(pemDecode(pemEncode(bytes, "X"), "X")), Array.from(bytes));
});

Deno.test("certificateDetails() reads validity, subject CN and keyUsage as @peculiar/x509 wrote them", async () => {
  const ca = await makeTestCa();
  const spki = await oaepSpki();
  const notBefore = new Date("2026-01-02T03:04:05Z");
  const notAfter = new Date("2051-06-07T08:09:10Z"); // past 2049: GeneralizedTime
  const pem = await ca.issue(spki, "roamsign confidentiality", { notBefore, notAfter });
  const d = certificateDetails(pemDecode(pem));
  assertEquals(d.notBefore.toISOString(), notBefore.toISOString());
  assertEquals(d.notAfter.toISOString(), notAfter.toISOString());
  assertEquals(d.subjectCn, "roamsign confidentiality");
  assertEquals(d.keyUsage, KEY_USAGE.keyEncipherment);
  const both = await ca.issue(spki, "x", {
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
  });
  assertEquals(
    certificateDetails(pemDecode(both)).keyUsage,
    KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation,
  );
  // the CA's own certificate has no keyUsage extension here
  assertEquals(certificateDetails(pemDecode(ca.pem)).keyUsage, null);
});
