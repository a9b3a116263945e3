/**
 * The two builds of the core (build.ts VARIANTS): the relaxed build's fused
 * multiply-add kernel (assembly/mont_fma.ts) and the baseline build's integer kernel must
 * give the same private-key results. Each build runs in its own Worker (the core is
 * a singleton per realm); PKCS#1 v1.5 signatures are deterministic, so both must equal
 * WebCrypto's byte for byte.
 */
import { assert, assertEquals } from "./test_assert.ts";
import { buildWasm } from "./build.ts";
import { hex, openssl, toBig, webCryptoKey } from "./test_util.ts";
import { parsePkcs8 } from "./der.ts";

/**
 * Runs `body` (statements over `wc`, the core initialised with `data.bytes`, and `data`)
 * in a module Worker and returns what it posts with the core's variant; an error thrown
 * there is thrown here.
 */
async function inWorker<T>(
  body: string,
  data: Record<string, unknown>,
): Promise<T & { variant: string }> {
  const mod = JSON.stringify(new URL("./mod.ts", import.meta.url).href);
  const worker = new Worker(
    URL.createObjectURL(
      new Blob([
        `import * as wc from ${mod};
         self.onmessage = async ({ data }) => {
           try {
             await wc.initWasmCrypto(data.bytes);
             ${body}
           } catch (e) { self.postMessage({ error: String(e?.code ?? e) }); }
         };`,
      ], { type: "application/javascript" }),
    ),
    { type: "module" },
  );
  try {
    const answer = await new Promise<(T & { variant: string }) | { error: string }>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage(data);
    });
    if ("error" in answer) throw new Error(`worker: ${answer.error}`);
    return answer;
  } finally {
    worker.terminate();
  }
}

/** Signs every message with every key in a Worker running the given build. */
function signIn(
  bytes: Uint8Array,
  keys: Uint8Array[],
  messages: Uint8Array[],
): Promise<{ variant: string; signatures: string[][] }> {
  return inWorker<{ signatures: string[][] }>(
    `const signatures = data.keys.map((der) => {
       const key = wc.importPrivateKeyPkcs8(der);
       const out = data.messages.map((m) =>
         Array.from(wc.signPkcs1v15(key, "SHA-256", m), (b) => b.toString(16).padStart(2, "0")).join(""));
       key.destroy();
       return out;
     });
     self.postMessage({ variant: wc.coreVariant(), signatures });`,
    { bytes, keys, messages },
  );
}

Deno.test("relaxed and baseline builds sign alike and as WebCrypto (RSA-2048, 3072, 4096)", async () => {
  const builds = await buildWasm();
  const keys: Uint8Array[] = [], expected: string[][] = [];
  const messages = [0, 1, 55, 300].map((n) => crypto.getRandomValues(new Uint8Array(n)));
  for (const bits of [2048, 2048, 3072, 4096]) {
    const { pair, pkcs8 } = await webCryptoKey("RSASSA-PKCS1-v1_5", "SHA-256", bits);
    keys.push(pkcs8);
    const row: string[] = [];
    for (const m of messages) {
      row.push(hex(
        new Uint8Array(
          await crypto.subtle.sign(
            "RSASSA-PKCS1-v1_5",
            pair.privateKey,
            m as Uint8Array<ArrayBuffer>,
          ),
        ),
      ));
    }
    expected.push(row);
  }
  const baseline = await signIn(builds.bytes, keys, messages);
  const relaxed = await signIn(builds.relaxed.bytes, keys, messages);
  assertEquals(baseline.variant, "baseline");
  assertEquals(relaxed.variant, "relaxed"); // Deno's V8 has relaxed SIMD and fuses on x86-64 with FMA
  assertEquals(baseline.signatures, expected);
  assertEquals(relaxed.signatures, expected);
});

Deno.test("the relaxed build has the baseline build's exports but kg_candidate, and is small", async () => {
  const builds = await buildWasm();
  assert(builds.relaxed.path.endsWith("wasm-crypto/build/roamsign-relaxed.wasm"));
  assert(builds.relaxed.bytes.length < 64 * 1024, `module is ${builds.relaxed.bytes.length} bytes`);
  const names = async (b: Uint8Array) =>
    WebAssembly.Module.exports(await WebAssembly.compile(b as Uint8Array<ArrayBuffer>))
      .map((e) => e.name).sort();
  // plus the relaxed build's own (assembly/index_relaxed.ts): the two-lane Miller-Rabin;
  // less the baseline build's own (assembly/index_baseline.ts): the one-candidate search
  const extra = ["kg_accept", "kg_round2", "kg_sieve"], baselineOnly = ["kg_candidate"];
  assertEquals(
    (await names(builds.relaxed.bytes)).filter((n) => !extra.includes(n)),
    (await names(builds.bytes)).filter((n) => !baselineOnly.includes(n)),
  );
  for (const n of extra) assert((await names(builds.relaxed.bytes)).includes(n), n);
});

/** generateRsaKey(2048) in a Worker running the given build: its PKCS#8 bytes. */
function generateIn(bytes: Uint8Array): Promise<{ variant: string; pkcs8: Uint8Array }> {
  return inWorker<{ pkcs8: Uint8Array }>(
    `const key = wc.generateRsaKey(2048);
     const pkcs8 = key.exportPkcs8();
     key.destroy();
     self.postMessage({ variant: wc.coreVariant(), pkcs8 });`,
    { bytes },
  );
}

Deno.test("both builds generate RSA-2048 keys: the baseline's one-candidate search, the relaxed build's two lanes", async () => {
  const builds = await buildWasm();
  for (const [want, bytes] of [["baseline", builds.bytes], ["relaxed", builds.relaxed.bytes]]) {
    const { variant, pkcs8 } = await generateIn(bytes as Uint8Array);
    assertEquals(variant, want);
    const c = parsePkcs8(pkcs8);
    const [n, e, d, p, q] = [c.n, c.e, c.d, c.p, c.q].map(toBig);
    assertEquals(p * q, n);
    assertEquals(n.toString(2).length, 2048);
    const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
    const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
    assertEquals((e * d) % lambda, 1n);
    const diff = p > q ? p - q : q - p;
    assert(diff > 1n << 924n, "|p - q| > 2^(nlen/2 - 100)");
    for (const x of [p, q]) {
      assertEquals(x >> 1022n, 3n, "top two bits set");
      const out = new TextDecoder().decode(await openssl(["prime", "-hex", x.toString(16)]));
      assert(out.includes("is prime"), `${want}: openssl: ${out}`);
    }
  }
});
