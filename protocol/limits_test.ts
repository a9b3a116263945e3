import { assert, assertEquals } from "../tests/fixtures/assert.ts";
import { b64uEncode } from "./base64url.ts";
import { utf8 } from "./bytes.ts";
import {
  b64uLength,
  MESSAGE_MAX_BYTES,
  messageRoom,
  RPC_BODY_MAX_BYTES,
  utf8Length,
} from "./limits.ts";
import { bindingOf, deriveChannelKeys, drawKs, seal } from "./channel.ts";
import { b64uDecode } from "./base64url.ts";

Deno.test("utf8Length() equals TextEncoder's length, unpaired surrogates included", () => {
  const samples = ["", "abc", "é", "€", "𝄞", "a\ud800b", "\udc00", "\ud800", "日本語 text ✓ 🙂"];
  for (const s of samples) assertEquals([s, utf8Length(s)], [s, utf8(s).length]);
});

Deno.test("messageRoom() counts one per ASCII character and goes negative when over", () => {
  assertEquals(messageRoom(""), MESSAGE_MAX_BYTES);
  assertEquals(messageRoom("a".repeat(MESSAGE_MAX_BYTES)), 0);
  assertEquals(messageRoom("é".repeat(MESSAGE_MAX_BYTES / 2 + 1)), -2);
});

Deno.test("b64uLength() is the length of the base64url text", () => {
  for (const n of [0, 1, 2, 3, 4, 5, 64, MESSAGE_MAX_BYTES]) {
    assertEquals(b64uLength(n), b64uEncode(new Uint8Array(n)).length);
  }
});

Deno.test("the largest message.submit seals into a body under RPC_BODY_MAX_BYTES", async () => {
  const o = {
    sid: b64uEncode(new Uint8Array(16)),
    nonce: b64uEncode(new Uint8Array(32)),
    time: Date.now(),
    seed: b64uEncode(new Uint8Array(32)),
  };
  const binding = bindingOf(o);
  const keys = await deriveChannelKeys(await drawKs(b64uDecode(o.seed), binding), binding);
  const plaintext = utf8(JSON.stringify({
    op: "message.submit",
    ts: Number.MAX_SAFE_INTEGER,
    args: {
      message: b64uEncode(new Uint8Array(MESSAGE_MAX_BYTES)),
      signature: "A".repeat(1024), // the longest the web server's schema takes
      alg: "RSASSA-PKCS1-v1_5-SHA256",
    },
  }));
  const sealed = await seal(keys.c2s, "c2s", binding, Number.MAX_SAFE_INTEGER, plaintext);
  const body = JSON.stringify({ sid: o.sid, ...sealed });
  assert(body.length < RPC_BODY_MAX_BYTES, `body of ${body.length} bytes`);
});
