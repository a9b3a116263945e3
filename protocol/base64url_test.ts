import { b64uDecode, b64uEncode, Base64UrlError } from "./base64url.ts";

function assertEquals(a: unknown, b: unknown) {
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new Error(`${JSON.stringify(a)} != ${JSON.stringify(b)}`);
  }
}
function assertThrows(f: () => unknown) {
  try {
    f();
  } catch (e) {
    if (e instanceof Base64UrlError) return;
    throw e;
  }
  throw new Error("expected Base64UrlError");
}

Deno.test("b64uEncode() matches RFC 4648 test vectors (url alphabet, no padding)", () => {
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "Zg"],
    ["fo", "Zm8"],
    ["foo", "Zm9v"],
    [
      "foob",
      "Zm9vYg",
    ],
    ["fooba", "Zm9vYmE"],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [plain, enc] of vectors) {
    assertEquals(b64uEncode(new TextEncoder().encode(plain)), enc);
    assertEquals(new TextDecoder().decode(b64uDecode(enc)), plain);
  }
  assertEquals(b64uEncode(new Uint8Array([0xfb, 0xff])), "-_8");
});

Deno.test("b64uDecode() round-trips random bytes of every length 0..64", () => {
  for (let n = 0; n <= 64; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    assertEquals(Array.from(b64uDecode(b64uEncode(bytes))), Array.from(bytes));
  }
});

Deno.test("b64uDecode() rejects padding, the standard alphabet, bad lengths and non-canonical bits", () => {
  assertThrows(() => b64uDecode("Zg=="));
  assertThrows(() => b64uDecode("+/8"));
  assertThrows(() => b64uDecode("Z"));
  assertThrows(() => b64uDecode("Zh")); // 'h' leaves non-zero trailing bits
  assertThrows(() => b64uDecode("Zm9v\n"));
  assertThrows(() => b64uDecode("é"));
});
