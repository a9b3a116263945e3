import { assertEquals, assertRejects, assertThrows } from "../tests/fixtures/assert.ts";
import { b64uEncode } from "./base64url.ts";
import { KeyRecordError, KSF_DEFAULT } from "./key_record.ts";
import {
  derivePasskeyKek,
  derivePassphraseKek,
  type KeyRecordV2,
  newDataKey,
  openKeyRecordV2,
  parseAnyKeyRecord,
  parseKeyRecordV2,
  type PasskeySlot,
  sealKeyRecordV2,
  withDataKey,
  wrapDataKey,
} from "./key_record_v2.ts";
import type { Registration } from "./registration.ts";

const REG: Registration = {
  identity: "alice",
  fullName: "Alice Example",
  accountNumber: "12-3456",
  address: "1 High Street",
};
const CRED = b64uEncode(new Uint8Array(32).fill(7));

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
  ) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const exportKey = crypto.getRandomValues(new Uint8Array(64));
  const passKek = await derivePassphraseKek(exportKey);
  const dk = newDataKey();
  const record = await sealKeyRecordV2({
    dk,
    passphrase: { kek: passKek, ksf: KSF_DEFAULT },
    registration: REG,
    pkcs8,
    spki,
    bits: 2048,
  });
  // A passkey slot, as the applet adds one: DK under the KEK of a PRF output and a salt.
  const prf = crypto.getRandomValues(new Uint8Array(32));
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const passkeyKek = await derivePasskeyKek(prf, salt);
  const slot: PasskeySlot = {
    kind: "passkey",
    credentialId: CRED,
    salt: b64uEncode(salt),
    ...await withDataKey(
      passKek,
      record,
      { kind: "passphrase" },
      (d) => wrapDataKey(passkeyKek, d, REG.identity, { kind: "passkey", credentialId: CRED }),
    ),
  };
  const released: KeyRecordV2 = { ...record, slots: [record.slots[0], slot] };
  return { pkcs8, exportKey, passKek, prf, salt, passkeyKek, record, released, dk };
}

Deno.test("openKeyRecordV2() opens the same SKu through the pass-phrase slot and a passkey slot", async () => {
  const f = await fixture();
  const viaPhrase = await openKeyRecordV2(
    await derivePassphraseKek(f.exportKey),
    { kind: "passphrase" },
    parseKeyRecordV2(JSON.parse(JSON.stringify(f.record))),
    REG,
  );
  const viaPasskey = await openKeyRecordV2(
    await derivePasskeyKek(f.prf, f.salt),
    { kind: "passkey", credentialId: CRED },
    parseKeyRecordV2(JSON.parse(JSON.stringify(f.released))),
    REG,
  );
  assertEquals(Array.from(viaPhrase), Array.from(f.pkcs8));
  assertEquals(Array.from(viaPasskey), Array.from(f.pkcs8));
});

Deno.test("a passkey slot does not open with another PRF output, salt or credential id", async () => {
  const f = await fixture();
  const other = crypto.getRandomValues(new Uint8Array(32));
  for (
    const [kek, id] of [
      [await derivePasskeyKek(other, f.salt), CRED],
      [await derivePasskeyKek(f.prf, other), CRED],
    ] as const
  ) {
    await assertRejects(
      () => openKeyRecordV2(kek, { kind: "passkey", credentialId: id }, f.released, REG),
      KeyRecordError,
      "key_record_undecryptable",
    );
  }
  // The slot moved to another credential id: its AAD no longer matches.
  const moved = b64uEncode(new Uint8Array(32).fill(9));
  const swapped: KeyRecordV2 = {
    ...f.released,
    slots: [f.released.slots[0], { ...f.released.slots[1], credentialId: moved }],
  };
  await assertRejects(
    () => openKeyRecordV2(f.passkeyKek, { kind: "passkey", credentialId: moved }, swapped, REG),
    KeyRecordError,
    "key_record_undecryptable",
  );
});

Deno.test("openKeyRecordV2() refuses changed registration data (the patent's hash check)", async () => {
  const f = await fixture();
  await assertRejects(
    () =>
      openKeyRecordV2(f.passKek, { kind: "passphrase" }, f.record, {
        ...REG,
        address: "2 High Street",
      }),
    KeyRecordError,
    "key_record_mismatch",
  );
});

Deno.test("parseKeyRecordV2() refuses a record without its pass-phrase slot first", async () => {
  const f = await fixture();
  const passkeyOnly = { ...f.released, slots: [f.released.slots[1]] };
  assertThrows(() => parseKeyRecordV2(passkeyOnly), KeyRecordError, "bad_key_record");
  assertThrows(
    () => parseKeyRecordV2({ ...f.record, slots: [] }),
    KeyRecordError,
    "bad_key_record",
  );
  const two = { ...f.record, slots: [f.record.slots[0], f.record.slots[0]] };
  assertThrows(() => parseKeyRecordV2(two), KeyRecordError, "bad_key_record");
  assertEquals(parseAnyKeyRecord(f.record).v, 2);
});

Deno.test("derivePasskeyKek() refuses a short PRF output (passkey_no_prf)", async () => {
  await assertRejects(
    () => derivePasskeyKek(new Uint8Array(16), new Uint8Array(32)),
    KeyRecordError,
    "passkey_no_prf",
  );
});
