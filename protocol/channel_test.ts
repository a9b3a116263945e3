import { assertEquals, assertOk, assertRejects } from "../tests/fixtures/assert.ts";
import { b64uDecode, b64uEncode } from "./base64url.ts";
import {
  bindingOf,
  ChannelError,
  deriveChannelKeyBytes,
  deriveChannelKeys,
  drawKs,
  importChannelKeys,
  open,
  openRefusal,
  requestNonce,
  seal,
  sealRefusal,
} from "./channel.ts";
import { utf8 } from "./bytes.ts";

function offer() {
  return {
    sid: b64uEncode(crypto.getRandomValues(new Uint8Array(16))),
    nonce: b64uEncode(crypto.getRandomValues(new Uint8Array(32))),
    time: Date.now(),
    seed: b64uEncode(crypto.getRandomValues(new Uint8Array(32))),
  };
}

async function pair() {
  const o = offer();
  const binding = bindingOf(o);
  const ks = await drawKs(b64uDecode(o.seed), binding);
  return { o, binding, ks, keys: await deriveChannelKeys(ks, binding) };
}

Deno.test("drawKs() never yields the same KS for the same R(s) (fresh randomness is mixed in)", async () => {
  const o = offer();
  const binding = bindingOf(o);
  const a = await drawKs(b64uDecode(o.seed), binding);
  const b = await drawKs(b64uDecode(o.seed), binding);
  assertEquals(a.length, 32);
  assertOk(b64uEncode(a) !== b64uEncode(b));
});

Deno.test("seal()/open() round-trip, and both ends derive the same keys from KS", async () => {
  const p = await pair();
  const server = await deriveChannelKeys(p.ks, p.binding);
  const msg = new TextEncoder().encode('{"op":"x"}');
  const sealed = await seal(p.keys.c2s, "c2s", p.binding, 1, msg);
  assertEquals(
    new TextDecoder().decode(await open(server.c2s, "c2s", p.binding, sealed)),
    '{"op":"x"}',
  );
});

Deno.test("open() refuses another sequence number, direction, session or T(s)", async () => {
  const p = await pair();
  const sealed = await seal(p.keys.c2s, "c2s", p.binding, 5, new Uint8Array([1, 2, 3]));
  await assertRejects(
    () => open(p.keys.c2s, "c2s", p.binding, { ...sealed, seq: 6 }),
    ChannelError,
    "bad_ciphertext",
  );
  await assertRejects(
    () => open(p.keys.c2s, "s2c", p.binding, sealed),
    ChannelError,
    "bad_ciphertext",
  );
  await assertRejects(
    () => open(p.keys.s2c, "c2s", p.binding, sealed),
    ChannelError,
    "bad_ciphertext",
  );
  const other = { ...p.binding, time: p.binding.time + 1 };
  await assertRejects(() => open(p.keys.c2s, "c2s", other, sealed), ChannelError, "bad_ciphertext");
  const otherNonce = { ...p.binding, nonce: crypto.getRandomValues(new Uint8Array(32)) };
  await assertRejects(
    () => open(p.keys.c2s, "c2s", otherNonce, sealed),
    ChannelError,
    "bad_ciphertext",
  );
});

Deno.test("open() refuses a bit-flipped ciphertext or IV and malformed fields", async () => {
  const p = await pair();
  const sealed = await seal(p.keys.c2s, "c2s", p.binding, 1, new Uint8Array(40));
  const ct = b64uDecode(sealed.ct);
  ct[0] ^= 0x80;
  await assertRejects(
    () => open(p.keys.c2s, "c2s", p.binding, { ...sealed, ct: b64uEncode(ct) }),
    ChannelError,
  );
  const iv = b64uDecode(sealed.iv);
  iv[11] ^= 1;
  await assertRejects(
    () => open(p.keys.c2s, "c2s", p.binding, { ...sealed, iv: b64uEncode(iv) }),
    ChannelError,
  );
  await assertRejects(
    () => open(p.keys.c2s, "c2s", p.binding, { ...sealed, iv: "AAAA" }),
    ChannelError,
  );
  await assertRejects(
    () => open(p.keys.c2s, "c2s", p.binding, { ...sealed, ct: "*" }),
    ChannelError,
  );
});

Deno.test("requestNonce() is bound to the session and the sequence number", async () => {
  const p = await pair();
  const n1 = await requestNonce(p.binding, 1);
  assertEquals(n1, await requestNonce(p.binding, 1));
  assertOk(n1 !== await requestNonce(p.binding, 2));
  assertOk(n1 !== await requestNonce({ ...p.binding, nonce: new Uint8Array(32) }, 1));
  assertEquals(b64uDecode(n1).length, 32);
});

Deno.test("openRefusal() proves only the number and key it was sealed for", async () => {
  const p = await pair();
  const ack = await sealRefusal(p.keys.s2c, p.binding, 3, "wrong_phrase");
  assertEquals(await openRefusal(p.keys.s2c, p.binding, 3, ack), "wrong_phrase");
  // Another request's ack, the other direction's key, a moved seq field, a flipped bit, none.
  assertEquals(await openRefusal(p.keys.s2c, p.binding, 4, ack), null);
  assertEquals(await openRefusal(p.keys.c2s, p.binding, 3, ack), null);
  assertEquals(await openRefusal(p.keys.s2c, p.binding, 4, { ...ack, seq: 4 }), null);
  const ct = b64uDecode(ack.ct);
  ct[0] ^= 1;
  assertEquals(await openRefusal(p.keys.s2c, p.binding, 3, { ...ack, ct: b64uEncode(ct) }), null);
  assertEquals(await openRefusal(p.keys.s2c, p.binding, 3, undefined), null);
  assertEquals(await openRefusal(p.keys.s2c, p.binding, 3, "x"), null);
});

Deno.test("openRefusal() does not take a sealed result for a refusal", async () => {
  const p = await pair();
  const result = await seal(p.keys.s2c, "s2c", p.binding, 3, utf8('{"verified":true}'));
  assertEquals(await openRefusal(p.keys.s2c, p.binding, 3, result), null);
});

Deno.test("deriveChannelKeyBytes() gives the keys of deriveChannelKeys() (either end opens the other's)", async () => {
  const { binding, ks, keys } = await pair();
  const bytes = await deriveChannelKeyBytes(ks, binding);
  const imported = await importChannelKeys(bytes);
  const c2s = await seal(keys.c2s, "c2s", binding, 1, utf8("from the applet"));
  assertEquals(
    new TextDecoder().decode(await open(imported.c2s, "c2s", binding, c2s)),
    "from the applet",
  );
  const s2c = await seal(imported.s2c, "s2c", binding, 1, utf8("from a web server"));
  assertEquals(
    new TextDecoder().decode(await open(keys.s2c, "s2c", binding, s2c)),
    "from a web server",
  );
  assertOk(b64uEncode(bytes.c2s) !== b64uEncode(bytes.s2c));
});
