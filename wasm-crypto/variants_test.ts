/**
 * The two builds of the core (build.ts VARIANTS): the relaxed build's fused
 * multiply-add kernel (assembly/mont_fma.ts) and the baseline build's integer kernel must
 * give the same private-key results. Each build runs in its own Worker (the core is
 * a singleton per realm); PKCS#1 v1.5 signatures are deterministic, so both must equal
 * WebCrypto's byte for byte.
 */
import { assert, assertEquals } from "./test_assert.ts";
import { buildWasm } from "./build.ts";
import { hex, webCryptoKey } from "./test_util.ts";

/** Signs every message with every key in a Worker running the given build. */
async function signIn(
  bytes: Uint8Array,
  keys: Uint8Array[],
  messages: Uint8Array[],
): Promise<{ variant: string; signatures: string[][] }> {
  const mod = JSON.stringify(new URL("./mod.ts", import.meta.url).href);
  const worker = new Worker(
    URL.createObjectURL(
      new Blob([
        `import * as wc from ${mod};
         self.onmessage = async ({ data }) => {
           try {
             await wc.initWasmCrypto(data.bytes);
             const signatures = data.keys.map((der) => {
               const key = wc.importPrivateKeyPkcs8(der);
               const out = data.messages.map((m) =>
                 Array.from(wc.signPkcs1v15(key, "SHA-256", m), (b) => b.toString(16).padStart(2, "0")).join(""));
               key.destroy();
               return out;
             });
             self.postMessage({ variant: wc.coreVariant(), signatures });
           } catch (e) { self.postMessage({ error: String(e?.code ?? e) }); }
         };`,
      ], { type: "application/javascript" }),
    ),
    { type: "module" },
  );
  try {
    const answer = await new Promise<
      { variant: string; signatures: string[][] } | { error: string }
    >((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage({ bytes, keys, messages });
    });
    if ("error" in answer) throw new Error(`worker: ${answer.error}`);
    return answer;
  } finally {
    worker.terminate();
  }
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

Deno.test("the relaxed build has the baseline build's exports and is small", async () => {
  const builds = await buildWasm();
  assert(builds.relaxed.path.endsWith("wasm-crypto/build/roamsign-relaxed.wasm"));
  assert(builds.relaxed.bytes.length < 64 * 1024, `module is ${builds.relaxed.bytes.length} bytes`);
  const names = async (b: Uint8Array) =>
    WebAssembly.Module.exports(await WebAssembly.compile(b as Uint8Array<ArrayBuffer>))
      .map((e) => e.name).sort();
  assertEquals(await names(builds.relaxed.bytes), await names(builds.bytes));
});
