/**
 * The dev tools' public face for tests: the layout measures that `tests/layout_test.ts`
 * enforces (`tools/layout.ts`; `deno task layout` prints them).
 *
 * @module
 */
export * from "./layout.ts";
