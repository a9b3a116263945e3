import { assertEquals, assertThrows } from "./test_assert.ts";
import { hex, randomBytes, randomInt } from "./test_util.ts";
import { createSha1, createSha256, sha1, sha256, WasmCryptoError } from "./mod.ts";
import { mem, state } from "./runtime.ts";
import { hashParts, mgf1Xor } from "./sha.ts";

async function webDigest(hash: "SHA-256" | "SHA-1", data: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest(hash, data as Uint8Array<ArrayBuffer>)));
}

const enc = new TextEncoder();

Deno.test("sha256() and sha1() match FIPS 180-4 examples", () => {
  assertEquals(
    hex(sha256(enc.encode("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals(
    hex(sha256(new Uint8Array(0))),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(
    hex(sha256(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assertEquals(hex(sha1(enc.encode("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assertEquals(
    hex(sha1(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
  );
});

Deno.test("sha256() and sha1() equal WebCrypto for every length 0..300", async () => {
  const data = randomBytes(300);
  for (let len = 0; len <= 300; len++) {
    const d = data.subarray(0, len);
    assertEquals(hex(sha256(d)), await webDigest("SHA-256", d), `SHA-256 length ${len}`);
    assertEquals(hex(sha1(d)), await webDigest("SHA-1", d), `SHA-1 length ${len}`);
  }
});

Deno.test("streaming in random chunk sizes equals WebCrypto for random inputs up to 5 MiB", async () => {
  const sizes = [65535, 65536, 65537, 1 << 20, randomInt(1, 5 << 20), 5 << 20];
  for (const size of sizes) {
    const data = randomBytes(size);
    const h256 = createSha256();
    const h1 = createSha1();
    for (let off = 0; off < size;) {
      const step = Math.min(
        size - off,
        Math.random() < 0.2 ? randomInt(0, 200) : randomInt(0, 300000),
      );
      h256.update(data.subarray(off, off + step));
      h1.update(data.subarray(off, off + step));
      off += step;
    }
    assertEquals(hex(h256.digest()), await webDigest("SHA-256", data), `SHA-256 size ${size}`);
    assertEquals(hex(h1.digest()), await webDigest("SHA-1", data), `SHA-1 size ${size}`);
  }
});

Deno.test("several streaming hashes can be open at once", () => {
  const a = createSha256();
  const b = createSha256();
  a.update(enc.encode("ab"));
  b.update(enc.encode("xyz"));
  a.update(enc.encode("c"));
  assertEquals(hex(a.digest()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assertEquals(hex(b.digest()), hex(sha256(enc.encode("xyz"))));
});

Deno.test("a digested stream refuses further use, and non-bytes are rejected", () => {
  const h = createSha256();
  h.digest();
  const e1 = assertThrows(() => h.update(new Uint8Array(1)), WasmCryptoError);
  assertEquals(e1.code, "invalid_argument");
  const e2 = assertThrows(() => h.digest(), WasmCryptoError);
  assertEquals(e2.code, "invalid_argument");
  // deno-lint-ignore no-explicit-any
  const e3 = assertThrows(() => sha256("abc" as any), WasmCryptoError);
  assertEquals(e3.code, "invalid_argument");
});

Deno.test("hashing leaves no data in the core's IO buffer (one-shot and streaming, any size)", () => {
  const s = state();
  const clean = (what: string) => {
    const io = mem().subarray(s.io, s.io + s.ioSize);
    assertEquals(io.findIndex((b) => b !== 0), -1, what);
  };
  for (const n of [0, 1, 64, 1000, s.ioSize - 40, s.ioSize, s.ioSize + 1, 3 * s.ioSize + 17]) {
    // non-zero bytes, so that any residue shows as a non-zero byte
    const data = randomBytes(n).map((b) => b | 1);
    sha256(data);
    clean(`sha256, ${n} bytes`);
    sha1(data);
    clean(`sha1, ${n} bytes`);
    const h = createSha256();
    h.update(data);
    clean(`update, ${n} bytes`);
    h.update(data.subarray(0, n >> 1));
    h.digest();
    clean(`digest, ${n} bytes`);
  }
});

Deno.test("hashParts() equals WebCrypto over the concatenation, within and beyond the IO buffer, and leaves IO clean", async () => {
  const s = state();
  const shapes = [
    [],
    [0, 0],
    [32, 4], // an MGF1 block: seed and counter
    [8, 32, 32], // the PSS hash M' = padding, mHash, salt
    [s.ioSize - 40, 8], // just fits with the digest behind it
    [s.ioSize - 20, 19], // just does not fit (SHA-256's digest needs 32 bytes)
    [30_000, 30_000, 30_000], // together beyond the IO buffer
    [1, 3 * s.ioSize + 17, 0, 5],
  ];
  for (const lengths of shapes) {
    const parts = lengths.map((n) => randomBytes(n).map((b) => b | 1));
    const all = new Uint8Array(lengths.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    for (const hash of ["SHA-256", "SHA-1"] as const) {
      const want = new Uint8Array(await crypto.subtle.digest(hash, all));
      assertEquals(hex(hashParts(hash, ...parts)), hex(want), `${hash} of parts ${lengths}`);
      const io = mem().subarray(s.io, s.io + s.ioSize);
      assertEquals(io.findIndex((b) => b !== 0), -1, `IO after ${hash} of parts ${lengths}`);
    }
  }
});

Deno.test("assembly/sha_rounds.ts is the current output of tools/wasm-crypto/gen_sha.ts (not edited by hand)", async () => {
  const gen = await new Deno.Command(Deno.execPath(), {
    args: ["run", new URL("../tools/wasm-crypto/gen_sha.ts", import.meta.url).pathname],
    stdout: "piped",
  }).output();
  assertEquals(gen.success, true);
  const out = new TextDecoder().decode(gen.stdout);
  const src = await Deno.readTextFile(new URL("assembly/sha_rounds.ts", import.meta.url));
  assertEquals(out.length > 10000, true);
  assertEquals(src, out);
});

/** MGF1 (RFC 8017 B.2.1) from WebCrypto digests, block by block: the reference. */
async function mgf1Reference(
  hash: "SHA-256" | "SHA-1",
  seed: Uint8Array,
  len: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(len);
  const hLen = hash === "SHA-256" ? 32 : 20;
  for (let i = 0, off = 0; off < len; i++, off += hLen) {
    const block = new Uint8Array(seed.length + 4);
    block.set(seed);
    new DataView(block.buffer).setUint32(seed.length, i, false);
    const d = new Uint8Array(await crypto.subtle.digest(hash, block));
    out.set(d.subarray(0, Math.min(hLen, len - off)), off);
  }
  return out;
}

Deno.test("mgf1Xor() XORs the MGF1 mask of WebCrypto's digests, in the core and beyond the IO buffer, and leaves IO clean", async () => {
  const s = state();
  const shapes: [number, number][] = [
    [32, 0],
    [32, 1],
    [32, 223], // OAEP-2048 dbMask: 7 blocks, the last one partial
    [223, 32], // OAEP-2048 seedMask: a seed longer than a block
    [20, 235], // SHA-1 sizes
    [60, 511], // the seed and counter cross a block boundary
    [64, 64],
    [32, s.ioSize - 32 - 36], // just fits
    [32, s.ioSize - 32 - 35], // just does not: block by block
  ];
  for (const [seedLen, dstLen] of shapes) {
    for (const hash of ["SHA-256", "SHA-1"] as const) {
      const seed = randomBytes(seedLen);
      const dst = randomBytes(dstLen);
      const want = await mgf1Reference(hash, seed, dstLen);
      for (let i = 0; i < dstLen; i++) want[i] ^= dst[i];
      const seedBefore = hex(seed);
      mgf1Xor(hash, seed, dst);
      assertEquals(hex(dst), hex(want), `${hash} seed ${seedLen}, dst ${dstLen}`);
      assertEquals(hex(seed), seedBefore, "the seed is left as it was");
      const io = mem().subarray(s.io, s.io + s.ioSize);
      assertEquals(io.findIndex((b) => b !== 0), -1, `IO after ${hash} ${seedLen}/${dstLen}`);
    }
  }
});
