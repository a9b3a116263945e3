/**
 * Profiling build: the release flags plus `--debug`, so the module keeps its name
 * section and `perf record` (with Deno's `--v8-flags=--perf-basic-prof`) names the
 * wasm functions (e.g. `montgomery/montMulD-2-turbofan`). Not for shipping.
 *
 *   deno run -A wasm-crypto/_build_named.ts /tmp/named.wasm
 *   perf record -e cpu-clock -g -- deno run -A --v8-flags=--perf-basic-prof script.ts
 *
 * where script.ts passes the bytes of /tmp/named.wasm to `initWasmCrypto()`.
 *
 * @module
 */
import asc from "assemblyscript/asc";
import { ASC_FLAGS } from "./build.ts";

if (import.meta.main) {
  const out = Deno.args[0];
  if (!out) throw new Error("usage: _build_named.ts OUT.wasm");
  let bytes: Uint8Array | undefined;
  const { error } = await asc.main(
    [
      new URL("assembly/index.ts", import.meta.url).pathname,
      ...ASC_FLAGS,
      "--debug",
      "--outFile",
      "named.wasm",
    ],
    {
      writeFile(name: string, c: Uint8Array | string) {
        if (name.endsWith("named.wasm") && c instanceof Uint8Array) bytes = c;
      },
    } as Parameters<typeof asc.main>[1],
  );
  if (error || !bytes) throw error ?? new Error("asc produced no module");
  await Deno.writeFile(out, bytes);
  console.log(`${out}: ${bytes.length} bytes`);
}
