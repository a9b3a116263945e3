import { assert, assertEquals, assertRejects, assertThrows } from "../tests/fixtures/assert.ts";
import { b64uDecode, b64uEncode } from "./base64url.ts";
import { utf8 } from "./bytes.ts";
import { KeyRecordError, KSF_DEFAULT } from "./key_record.ts";
import {
  derivePassphraseKek,
  type KeyRecordV2,
  newDataKey,
  openKeyRecordV2,
  parseAnyKeyRecord,
  parseKeyRecordV2,
  sealKeyRecordV2,
  withDataKey,
} from "./key_record_v2.ts";
import {
  checkPasskeyTags,
  derivePasskeyKek,
  passkeyPublicKey,
  type PasskeySlot,
  wrapToPasskey,
} from "./passkey_slot.ts";
import type { Registration } from "./registration.ts";

const REG: Registration = {
  identity: "alice",
  fullName: "Alice Example",
  accountNumber: "12-3456",
  address: "1 High Street",
};
const CRED = b64uEncode(new Uint8Array(32).fill(7));
const PASSKEY = { kind: "passkey", credentialId: CRED } as const;

async function rsaKey() {
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
  return { pkcs8, spki };
}

async function fixture() {
  const { pkcs8, spki } = await rsaKey();
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
  // A passkey slot, as the applet adds one: the passkey's X25519 public key from its PRF
  // output and salt, then DK wrapped to it (opened through the pass-phrase slot).
  const prf = crypto.getRandomValues(new Uint8Array(32));
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const pub = await passkeyPublicKey(prf, salt);
  const slot: PasskeySlot = await withDataKey(
    passKek,
    record,
    { kind: "passphrase" },
    (d) =>
      wrapToPasskey(d, REG.identity, {
        credentialId: CRED,
        salt: b64uEncode(salt),
        pub: b64uEncode(pub),
      }),
  );
  const released: KeyRecordV2 = { ...record, slots: [record.slots[0], slot] };
  return { pkcs8, spki, exportKey, passKek, prf, salt, pub, slot, record, released, dk };
}

function withSlot(f: { released: KeyRecordV2 }, slot: PasskeySlot): KeyRecordV2 {
  return { ...f.released, slots: [f.released.slots[0], slot] };
}

Deno.test("openKeyRecordV2() opens the same SKu through the pass-phrase slot and a passkey slot", async () => {
  const f = await fixture();
  const viaPhrase = await openKeyRecordV2(
    await derivePassphraseKek(f.exportKey),
    { kind: "passphrase" },
    parseKeyRecordV2(JSON.parse(JSON.stringify(f.record))),
    REG,
  );
  const released = parseKeyRecordV2(JSON.parse(JSON.stringify(f.released)));
  const viaPasskey = await openKeyRecordV2(
    await derivePasskeyKek(f.prf, released.slots[1] as PasskeySlot),
    PASSKEY,
    released,
    REG,
  );
  assertEquals(Array.from(viaPhrase), Array.from(f.pkcs8));
  assertEquals(Array.from(viaPasskey), Array.from(f.pkcs8));
});

Deno.test("passkeyPublicKey() is the X25519 public key of x = HKDF(PRF output, salt) (RFC 7748, RFC 8410)", async () => {
  const f = await fixture();
  // An independent derivation: x as an extractable key, its public half from the JWK.
  const base = await crypto.subtle.importKey("raw", f.prf as BufferSource, "HKDF", false, [
    "deriveBits",
  ]);
  const x = new Uint8Array(
    await crypto.subtle.deriveBits(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: f.salt as BufferSource,
        info: utf8("roamsign key record v2 passkey x25519") as BufferSource,
      },
      base,
      256,
    ),
  );
  const pkcs8 = new Uint8Array(48);
  pkcs8.set([0x30, 0x2e, 2, 1, 0, 0x30, 5, 6, 3, 0x2b, 0x65, 0x6e, 4, 0x22, 4, 0x20]);
  pkcs8.set(x, 16);
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, true, [
    "deriveBits",
  ]);
  const jwk = await crypto.subtle.exportKey("jwk", key);
  assertEquals(b64uEncode(f.pub), jwk.x);
  assertEquals(f.slot.pub, jwk.x);
});

Deno.test("a passkey slot does not open with another PRF output, salt or credential id", async () => {
  const f = await fixture();
  const other = crypto.getRandomValues(new Uint8Array(32));
  await assertRejects(
    async () => openKeyRecordV2(await derivePasskeyKek(other, f.slot), PASSKEY, f.released, REG),
    KeyRecordError,
    "key_record_undecryptable",
  );
  const otherSalt = withSlot(f, { ...f.slot, salt: b64uEncode(other) });
  await assertRejects(
    async () =>
      openKeyRecordV2(
        await derivePasskeyKek(f.prf, otherSalt.slots[1] as PasskeySlot),
        PASSKEY,
        otherSalt,
        REG,
      ),
    KeyRecordError,
    "key_record_undecryptable",
  );
  // The slot moved to another credential id: its AAD no longer matches.
  const moved = b64uEncode(new Uint8Array(32).fill(9));
  const swapped = withSlot(f, { ...f.slot, credentialId: moved });
  await assertRejects(
    async () =>
      openKeyRecordV2(
        await derivePasskeyKek(f.prf, f.slot),
        { kind: "passkey", credentialId: moved },
        swapped,
        REG,
      ),
    KeyRecordError,
    "key_record_undecryptable",
  );
});

Deno.test("a passkey slot with a changed or moved epk or pub does not open", async () => {
  const f = await fixture();
  // A second wrap of the same DK to the same pub: its epk moved into the first slot.
  const second = await withDataKey(
    f.passKek,
    f.record,
    { kind: "passphrase" },
    (d) => wrapToPasskey(d, REG.identity, f.slot),
  );
  assert(second.epk !== f.slot.epk, "every wrap has its own ephemeral key");
  const attacker = await passkeyPublicKey(
    crypto.getRandomValues(new Uint8Array(32)),
    crypto.getRandomValues(new Uint8Array(32)),
  );
  for (
    const bent of [
      { ...f.slot, epk: second.epk },
      { ...f.slot, iv: second.iv, wrapped: second.wrapped },
      { ...f.slot, pub: b64uEncode(attacker) },
      { ...f.slot, epk: b64uEncode(attacker) },
    ]
  ) {
    const rec = withSlot(f, bent);
    await assertRejects(
      async () => openKeyRecordV2(await derivePasskeyKek(f.prf, bent), PASSKEY, rec, REG),
      KeyRecordError,
      "key_record_undecryptable",
    );
  }
  // The second wrap on its own opens: the refusals above are the changes, not the wrap.
  const ok = await openKeyRecordV2(
    await derivePasskeyKek(f.prf, second),
    PASSKEY,
    withSlot(f, second),
    REG,
  );
  assertEquals(Array.from(ok), Array.from(f.pkcs8));
});

Deno.test("checkPasskeyTags() refuses a substituted pub (a relay's own key) or salt, and a tag under another DK", async () => {
  const f = await fixture();
  // What a relaying web server would send at re-registration: its own X25519 key in place
  // of the passkey's, so that the new data key would be wrapped to a key it holds.
  const relay = await passkeyPublicKey(
    crypto.getRandomValues(new Uint8Array(32)),
    crypto.getRandomValues(new Uint8Array(32)),
  );
  await checkPasskeyTags(f.dk, [f.slot]);
  for (
    const bent of [
      { ...f.slot, pub: b64uEncode(relay) },
      { ...f.slot, credentialId: b64uEncode(new Uint8Array(32).fill(9)) },
      { ...f.slot, salt: b64uEncode(new Uint8Array(32).fill(9)) },
      { ...f.slot, tag: b64uEncode(new Uint8Array(32)) },
    ]
  ) {
    await assertRejects(
      () => checkPasskeyTags(f.dk, [f.slot, bent]),
      KeyRecordError,
      "passkey_slot_untrusted",
    );
  }
  // A slot the relay made itself, to its own key, under a data key it chose.
  const forged = await wrapToPasskey(newDataKey(), REG.identity, {
    credentialId: CRED,
    salt: f.slot.salt,
    pub: b64uEncode(relay),
  });
  await assertRejects(
    () => checkPasskeyTags(f.dk, [forged]),
    KeyRecordError,
    "passkey_slot_untrusted",
  );
});

Deno.test("opening a passkey slot checks its tag after unwrapping", async () => {
  const f = await fixture();
  const bent = withSlot(f, { ...f.slot, tag: b64uEncode(new Uint8Array(32).fill(1)) });
  await assertRejects(
    async () => openKeyRecordV2(await derivePasskeyKek(f.prf, f.slot), PASSKEY, bent, REG),
    KeyRecordError,
    "passkey_slot_untrusted",
  );
});

Deno.test("a new data key re-wrapped to a passkey's pub (no PRF needed) opens with the original PRF output", async () => {
  const f = await fixture();
  const { pkcs8, spki } = await rsaKey();
  const newDk = newDataKey();
  const newKek = await derivePassphraseKek(crypto.getRandomValues(new Uint8Array(64)));
  const next = await sealKeyRecordV2({
    dk: newDk,
    passphrase: { kek: newKek, ksf: KSF_DEFAULT },
    registration: REG,
    pkcs8,
    spki,
    bits: 2048,
  });
  // Only the slot's public parts: credential id, salt, pub.
  const { credentialId, salt, pub } = f.slot;
  const rewrapped = await wrapToPasskey(newDk, REG.identity, { credentialId, salt, pub });
  assertEquals([rewrapped.salt, rewrapped.pub], [salt, pub]);
  await checkPasskeyTags(newDk, [rewrapped]);
  await assertRejects(
    () => checkPasskeyTags(newDk, [f.slot]),
    KeyRecordError,
    "passkey_slot_untrusted",
  );
  const released: KeyRecordV2 = { ...next, slots: [next.slots[0], rewrapped] };
  const opened = await openKeyRecordV2(
    await derivePasskeyKek(f.prf, rewrapped),
    PASSKEY,
    parseKeyRecordV2(JSON.parse(JSON.stringify(released))),
    REG,
  );
  assertEquals(Array.from(opened), Array.from(pkcs8));
  // The old slot does not open the new record: it holds the old data key.
  await assertRejects(
    async () =>
      openKeyRecordV2(
        await derivePasskeyKek(f.prf, f.slot),
        PASSKEY,
        { ...next, slots: [next.slots[0], f.slot] },
        REG,
      ),
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

Deno.test("parseKeyRecordV2() refuses a passkey slot without a 32-byte pub, epk or tag", async () => {
  const f = await fixture();
  assertEquals(parseKeyRecordV2(f.released).slots[1], f.slot);
  for (const field of ["pub", "epk", "tag"] as const) {
    const short = b64uEncode(b64uDecode(f.slot[field]).subarray(0, 31));
    for (const bent of [{ ...f.slot, [field]: short }, { ...f.slot, [field]: undefined }]) {
      assertThrows(() => parseKeyRecordV2(withSlot(f, bent)), KeyRecordError, "bad_key_record");
    }
  }
});

Deno.test("derivePasskeyKek() refuses a short PRF output (passkey_no_prf)", async () => {
  const f = await fixture();
  await assertRejects(
    () => derivePasskeyKek(new Uint8Array(16), f.slot),
    KeyRecordError,
    "passkey_no_prf",
  );
});

Deno.test("wrapToPasskey() refuses a pub that is not an X25519 key of full order", async () => {
  const f = await fixture();
  await withDataKey(f.passKek, f.record, { kind: "passphrase" }, async (d) => {
    for (const pub of [new Uint8Array(32), new Uint8Array(31)]) {
      await assertRejects(
        () =>
          wrapToPasskey(d, REG.identity, {
            credentialId: CRED,
            salt: f.slot.salt,
            pub: b64uEncode(pub),
          }),
        KeyRecordError,
        "passkey_slot_untrusted",
      );
    }
  });
});
