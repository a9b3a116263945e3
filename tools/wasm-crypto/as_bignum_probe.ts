/**
 * Compiles tools/wasm-crypto/experiments/u128_probe.ts with the core's release flags and
 * reports what as-bignum's u128 class allocates per 64x64 -> 128-bit product (the stub
 * runtime never frees, and the core's fixed layout starts at 64 KiB, docs/wasm-crypto.md),
 * and checks the class and the allocation-free `__umulq64` against BigInt.
 *
 *   deno run -A tools/wasm-crypto/as_bignum_probe.ts
 *
 * @module
 */
import asc from "assemblyscript/asc";
import { ASC_FLAGS } from "../../wasm-crypto/build.ts";

type Probe = {
  mulHiClass(a: bigint, b: bigint): bigint;
  mulHiFree(a: bigint, b: bigint): bigint;
  bytesPerMul(n: number): number;
  memory: WebAssembly.Memory;
};

if (import.meta.main) {
  let bytes: Uint8Array | undefined;
  const { error } = await asc.main(
    [
      new URL("experiments/u128_probe.ts", import.meta.url).pathname,
      ...ASC_FLAGS,
      "--outFile",
      "probe.wasm",
    ],
    {
      writeFile(name: string, c: Uint8Array | string) {
        if (name.endsWith("probe.wasm") && c instanceof Uint8Array) bytes = c;
      },
    } as Parameters<typeof asc.main>[1],
  );
  if (error || !bytes) throw error ?? new Error("asc produced no module");
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, {
    env: {
      abort() {
        throw new Error("probe aborted");
      },
    },
  });
  const p = instance.exports as unknown as Probe;
  const mask = (1n << 64n) - 1n;
  for (let i = 0; i < 1000; i++) {
    const [a, b] = crypto.getRandomValues(new BigUint64Array(2));
    const want = (a * b) >> 64n;
    if ((p.mulHiClass(a, b) & mask) !== want || (p.mulHiFree(a, b) & mask) !== want) {
      throw new Error(`high half of ${a} * ${b} differs from BigInt`);
    }
  }
  const pages0 = p.memory.buffer.byteLength / 65536;
  const per = p.bytesPerMul(100_000);
  console.log(
    `u128 class: ${per} bytes allocated per product (never freed: memory ${pages0} -> ${
      p.memory.buffer.byteLength / 65536
    } pages after 100 000 products); __umulq64: none. Both equal BigInt on 1000 random pairs.`,
  );
}
