/**
 * Profiling build: the release flags plus `--debug`, so the module keeps its name
 * section and `perf record` (with Deno's `--v8-flags=--perf-basic-prof`) names the
 * wasm functions (e.g. `montgomery/montMulD-2-turbofan`). Not for shipping.
 *
 *   deno run -A tools/wasm-crypto/build_named.ts /tmp/named.wasm [--relaxed]
 *   perf record -e cpu-clock -g -- deno run -A --v8-flags=--perf-basic-prof script.ts
 *
 * where script.ts passes the bytes of /tmp/named.wasm to `initWasmCrypto()`; `--relaxed`
 * builds the relaxed-SIMD variant (build.ts VARIANTS). For the JIT code itself:
 * `perf record -k 1` with `--v8-flags=--perf-prof`, then `perf inject --jit` and
 * `perf annotate -s JS:wasm-crypto/assembly/mont_fma/montSqrN-…` (docs/wasm-crypto.md).
 *
 * @module
 */
import asc from "assemblyscript/asc";
import { ASC_FLAGS, VARIANTS } from "../../wasm-crypto/build.ts";

if (import.meta.main) {
  const out = Deno.args.find((a) => !a.startsWith("--"));
  if (!out) throw new Error("usage: tools/wasm-crypto/build_named.ts OUT.wasm [--relaxed]");
  const variant = Deno.args.includes("--relaxed") ? "relaxed" : "baseline";
  let bytes: Uint8Array | undefined;
  const { error } = await asc.main(
    [
      ...VARIANTS[variant].entries.map((f) =>
        new URL(`../../wasm-crypto/assembly/${f}`, import.meta.url).pathname
      ),
      ...ASC_FLAGS,
      ...VARIANTS[variant].flags,
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
  console.log(`${out}: ${variant}, ${bytes.length} bytes`);
}
