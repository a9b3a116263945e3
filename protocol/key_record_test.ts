import { assertEquals, assertRejects, assertThrows } from "../tests/fixtures/assert.ts";
import { b64uDecode, b64uEncode } from "./base64url.ts";
import {
  checkKsf,
  deriveKek,
  KeyRecordError,
  KSF_DEFAULT,
  openKeyRecord,
  parseKeyRecord,
  sealKeyRecord,
} from "./key_record.ts";
import type { Registration } from "./registration.ts";

const REG: Registration = {
  identity: "alice",
  fullName: "Alice Example",
  accountNumber: "12-3456",
  address: "1 High Street",
};

async function fixture() {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      hash: "SHA-256",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
    },
    true,
    ["sign", "verify"],
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const exportKey = crypto.getRandomValues(new Uint8Array(64));
  const kek = await deriveKek(exportKey);
  const record = await sealKeyRecord({
    kek,
    registration: REG,
    pkcs8,
    spki,
    bits: 2048,
    ksf: KSF_DEFAULT,
  });
  return { pkcs8, spki, exportKey, kek, record };
}

Deno.test("openKeyRecord() returns the sealed PKCS#8 for the same KEK and registration data", async () => {
  const f = await fixture();
  const kek2 = await deriveKek(f.exportKey); // the same export key gives the same KEK
  const out = await openKeyRecord(kek2, parseKeyRecord(JSON.parse(JSON.stringify(f.record))), REG);
  assertEquals(Array.from(out), Array.from(f.pkcs8));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", f.spki));
  assertEquals(f.record.spkiSha256, b64uEncode(digest));
});

Deno.test("openKeyRecord() refuses changed registration data (the patent's hash check)", async () => {
  const f = await fixture();
  await assertRejects(
    () => openKeyRecord(f.kek, f.record, { ...REG, accountNumber: "99-9999" }),
    KeyRecordError,
    "key_record_mismatch",
  );
});

Deno.test("openKeyRecord() refuses another KEK", async () => {
  const f = await fixture();
  const other = await deriveKek(crypto.getRandomValues(new Uint8Array(64)));
  await assertRejects(
    () => openKeyRecord(other, f.record, REG),
    KeyRecordError,
    "key_record_undecryptable",
  );
});

Deno.test("openKeyRecord() refuses a record whose spkiSha256 was swapped (bound by the AAD)", async () => {
  const f = await fixture();
  const swapped = { ...f.record, spkiSha256: b64uEncode(new Uint8Array(32)) };
  await assertRejects(
    () => openKeyRecord(f.kek, swapped, REG),
    KeyRecordError,
    "key_record_undecryptable",
  );
});

Deno.test("openKeyRecord() refuses a bit-flipped ciphertext", async () => {
  const f = await fixture();
  const ct = b64uDecode(f.record.ct);
  ct[10] ^= 1;
  await assertRejects(
    () => openKeyRecord(f.kek, { ...f.record, ct: b64uEncode(ct) }, REG),
    KeyRecordError,
    "key_record_undecryptable",
  );
});

Deno.test("openKeyRecord() refuses a record for another identity", async () => {
  const f = await fixture();
  await assertRejects(
    () => openKeyRecord(f.kek, f.record, { ...REG, identity: "bob" }),
    KeyRecordError,
    "key_record_mismatch",
  );
});

Deno.test("parseKeyRecord() rejects stretching weaker than memory-constrained", async () => {
  const f = await fixture();
  const weak = {
    ...f.record,
    kdf: { ...f.record.kdf, params: { memory: 1024, iterations: 1, parallelism: 1 } },
  };
  assertThrows(() => parseKeyRecord(weak), KeyRecordError, "weak_ksf");
  assertThrows(
    () => checkKsf({ memory: 65536, iterations: 2, parallelism: 4 }),
    KeyRecordError,
    "weak_ksf",
  );
  assertEquals(checkKsf({ memory: 65536, iterations: 3, parallelism: 4 }), KSF_DEFAULT);
});

Deno.test("parseKeyRecord() rejects malformed records", async () => {
  const f = await fixture();
  for (
    const bad of [
      null,
      [],
      { ...f.record, v: 2 },
      { ...f.record, iv: "AAAA" },
      { ...f.record, ct: "!!" },
      { ...f.record, bits: 1024 },
      { ...f.record, sigAlg: "RSA-SHA1" },
      { ...f.record, kdf: { ...f.record.kdf, ksf: "pbkdf2" } },
    ]
  ) {
    assertThrows(() => parseKeyRecord(bad), KeyRecordError);
  }
});
