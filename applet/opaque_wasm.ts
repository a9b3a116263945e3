/**
 * Hands the OPAQUE client's wasm, checked by the worker, to the package's glue. In the
 * applet's worker bundle `@serenity-kit/opaque` is the package's JavaScript without its
 * inlined module (server/opaque_split.ts); that glue's `ready` waits on
 * {@link opaqueWasmBytes}, and the worker calls {@link provideOpaqueWasm} with the bytes
 * it fetched and checked against the SHA-256 linked into its own bytes
 * (applet/worker.ts). Run unbundled (Deno), the package compiles its inlined copy and
 * nothing waits here.
 *
 * @module
 */

let _give: ((bytes: Uint8Array) => void) | null = null;
const _bytes = new Promise<Uint8Array>((resolve) => {
  _give = resolve;
});

/** For the glue: the module's bytes, once the worker has checked them. */
export function opaqueWasmBytes(): Promise<Uint8Array> {
  return _bytes;
}

/**
 * For the worker: hands over bytes it has checked against the linked SHA-256. Only the
 * first call counts (a second `init` checks the same file again; the module is compiled
 * once).
 */
export function provideOpaqueWasm(bytes: Uint8Array): void {
  _give?.(bytes);
  _give = null;
}
