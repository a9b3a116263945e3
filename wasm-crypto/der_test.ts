import { assertCode, assertEquals } from "./test_assert.ts";
import { hex, openssl, tempDir, webCryptoKey } from "./test_util.ts";
import { encodePkcs8, encodeSpki, parsePkcs8, parseSpki } from "./der.ts";
import { importPrivateKeyPkcs8, importPublicKeySpki } from "./mod.ts";

const web = await webCryptoKey("RSASSA-PKCS1-v1_5");

/** Splices `insert` into `der` at `at`, replacing `remove` bytes. */
function splice(der: Uint8Array, at: number, remove: number, insert: number[]): Uint8Array {
  const out = new Uint8Array(der.length - remove + insert.length);
  out.set(der.subarray(0, at));
  out.set(insert, at);
  out.set(der.subarray(at + remove), at + insert.length);
  return out;
}

Deno.test("PKCS#8 and SPKI round-trip byte for byte (WebCrypto keys)", () => {
  const key = importPrivateKeyPkcs8(web.pkcs8);
  assertEquals(hex(key.exportPkcs8()), hex(web.pkcs8));
  assertEquals(hex(key.publicKey.exportSpki()), hex(web.spki));
  assertEquals(hex(importPublicKeySpki(web.spki).exportSpki()), hex(web.spki));
  assertEquals(hex(encodePkcs8(parsePkcs8(web.pkcs8))), hex(web.pkcs8));
  assertEquals(hex(encodeSpki(parseSpki(web.spki))), hex(web.spki));
  key.destroy();
});

Deno.test("PKCS#8 and SPKI round-trip byte for byte (OpenSSL keys, e = 3 and e = 65537)", async () => {
  const dir = await tempDir();
  try {
    for (const e of ["3", "65537"]) {
      const pemKey = await openssl([
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-pkeyopt",
        `rsa_keygen_pubexp:${e}`,
      ]);
      await Deno.writeFile(`${dir.path}/k.pem`, pemKey);
      const der = await openssl([
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        `${dir.path}/k.pem`,
        "-outform",
        "DER",
      ]);
      const spki = await openssl([
        "pkey",
        "-in",
        `${dir.path}/k.pem`,
        "-pubout",
        "-outform",
        "DER",
      ]);
      const key = importPrivateKeyPkcs8(der);
      assertEquals(hex(key.exportPkcs8()), hex(der), `PKCS#8 e=${e}`);
      assertEquals(hex(key.publicKey.exportSpki()), hex(spki), `SPKI e=${e}`);
      key.destroy();
    }
  } finally {
    await dir.cleanup();
  }
});

Deno.test("DER reader rejects non-canonical and malformed encodings", () => {
  const der = web.pkcs8; // 30 82 LL LL 02 01 00 30 0d 06 09 ... 05 00 04 82 ...
  const spki = web.spki;
  const bad: [string, Uint8Array][] = [
    ["trailing byte", splice(der, der.length, 0, [0])],
    ["truncated", der.subarray(0, der.length - 1)],
    // outer length 0x82 LLLL re-encoded with a superfluous leading zero byte
    ["non-minimal long-form length", splice(der, 1, 1, [0x83, 0x00])],
    ["indefinite length", splice(der, 1, 3, [0x80])],
    // version INTEGER 0 encoded as 02 02 00 00
    [
      "non-minimal INTEGER",
      splice(splice(der, 4, 3, [0x02, 0x02, 0x00, 0x00]), 2, 2, [
        (der.length - 4 + 1) >> 8,
        (der.length - 4 + 1) & 0xff,
      ]),
    ],
    ["empty", new Uint8Array(0)],
  ];
  for (const [what, bytes] of bad) {
    assertCode(() => importPrivateKeyPkcs8(bytes), "invalid_der", what);
  }
  assertCode(
    () => importPublicKeySpki(splice(spki, spki.length, 0, [0])),
    "invalid_der",
    "SPKI trailing byte",
  );
  assertCode(() => importPublicKeySpki(der), "invalid_der", "PKCS#8 given as SPKI");
  assertCode(() => importPrivateKeyPkcs8(spki), "invalid_der", "SPKI given as PKCS#8");
});

Deno.test("DER reader rejects a long-form length for a short value (BER)", () => {
  // SPKI: 30 82 01 22 30 0d ... : re-encode the inner AlgorithmIdentifier length 0d as 81 0d
  const spki = web.spki;
  assertEquals(spki[4], 0x30);
  const ber = splice(spki, 5, 1, [0x81, 0x0d]);
  const total = ber.length - 4;
  ber[2] = total >> 8;
  ber[3] = total & 0xff;
  assertCode(() => importPublicKeySpki(ber), "invalid_der");
});

Deno.test("DER reader rejects a negative modulus and a wrong algorithm", () => {
  const c = parseSpki(web.spki);
  // modulus with its leading 00 removed reads as negative
  const n = c.n;
  const neg = new Uint8Array([
    0x30,
    0x82,
    0,
    0,
    0x02,
    0x82,
    n.length >> 8,
    n.length & 0xff,
    ...n,
    0x02,
    0x03,
    1,
    0,
    1,
  ]);
  neg[2] = (neg.length - 4) >> 8;
  neg[3] = (neg.length - 4) & 0xff;
  const bits = new Uint8Array([
    0x03,
    0x82,
    (neg.length + 1) >> 8,
    (neg.length + 1) & 0xff,
    0,
    ...neg,
  ]);
  const alg = [
    0x30,
    0x0d,
    0x06,
    0x09,
    0x2a,
    0x86,
    0x48,
    0x86,
    0xf7,
    0x0d,
    0x01,
    0x01,
    0x01,
    0x05,
    0x00,
  ];
  const body = [...alg, ...bits];
  const spki = new Uint8Array([0x30, 0x82, body.length >> 8, body.length & 0xff, ...body]);
  assertCode(() => importPublicKeySpki(spki), "invalid_der", "negative INTEGER");
  // the same key with a different OID (rsassa-pss 1.2.840.113549.1.1.10)
  const pss = web.spki.slice();
  assertEquals(pss[16], 0x01);
  pss[16] = 0x0a;
  assertCode(() => importPublicKeySpki(pss), "unsupported_key", "OID");
  // parameters absent instead of NULL
  const noNull = splice(web.spki, 17, 2, []);
  noNull[5] = 0x0b;
  const t = noNull.length - 4;
  noNull[2] = t >> 8;
  noNull[3] = t & 0xff;
  assertCode(() => importPublicKeySpki(noNull), "invalid_der", "missing NULL");
});
