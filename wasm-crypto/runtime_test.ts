import { assert, assertEquals } from "./test_assert.ts";
import { buildWasm } from "./build.ts";
import { initWasmCrypto, WasmCryptoError } from "./mod.ts";

async function inWorker(source: unknown): Promise<Record<string, unknown>> {
  const worker = new Worker(new URL("./runtime_test_worker.ts", import.meta.url), {
    type: "module",
  });
  try {
    const done = new Promise<Record<string, unknown>>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
    });
    worker.postMessage({ source });
    return await done;
  } finally {
    worker.terminate();
  }
}

const EXPECTED = {
  beforeInit: "not_initialized",
  keygenBeforeInit: "not_initialized",
  works: true,
  nonZeroBefore: true,
  allZeroAfter: true,
  keyAfterZeroize: "not_initialized",
  destroyedFlag: true,
  shaAfterZeroize: "not_initialized",
  verifyAfterZeroize: "not_initialized",
  verifyAfterReinit: true,
  keyAfterReinit: "key_destroyed",
};

Deno.test("before initWasmCrypto() everything throws not_initialized; zeroizeMemory() zeroes all memory", async () => {
  const r = await inWorker("default");
  const { memoryBytes, ...rest } = r;
  assertEquals(rest, EXPECTED);
  assert((memoryBytes as number) >= 4 * 65536);
});

Deno.test("initWasmCrypto() accepts bytes, a compiled module and a Response (as a browser worker passes them)", async () => {
  const { bytes } = await buildWasm();
  const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  for (const source of [bytes, module]) {
    const { memoryBytes: _, ...rest } = await inWorker(source);
    assertEquals(rest, EXPECTED);
  }
  // Response and URL are not structured-cloneable: check them in this isolate (already initialised: a no-op)
  await initWasmCrypto(new Response(bytes as Uint8Array<ArrayBuffer>));
  await initWasmCrypto(new URL("./build/roamsign.wasm", import.meta.url));
});

Deno.test("initWasmCrypto() rejects a module that is not the core with init_failed", async () => {
  const worker = new Worker(
    URL.createObjectURL(
      new Blob([
        `import { initWasmCrypto } from ${
          JSON.stringify(new URL("./mod.ts", import.meta.url).href)
        };
         try { await initWasmCrypto(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); self.postMessage("no error"); }
         catch (e) { self.postMessage(e.code ?? String(e)); }
         try { await initWasmCrypto(new Uint8Array([1, 2, 3])); self.postMessage("no error"); }
         catch (e) { self.postMessage(e.code ?? String(e)); }`,
      ], { type: "application/javascript" }),
    ),
    { type: "module" },
  );
  try {
    const codes: string[] = [];
    await new Promise<void>((resolve) => {
      worker.onmessage = (e) => {
        codes.push(e.data);
        if (codes.length === 2) resolve();
      };
    });
    assertEquals(codes, ["init_failed", "init_failed"]);
  } finally {
    worker.terminate();
  }
  assert(new WasmCryptoError("init_failed", "x").code === "init_failed");
});
