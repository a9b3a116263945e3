/**
 * Minimal assertions for the wasm-crypto tests (JSR's @std/assert is out of
 * reach here); built on node:assert's deep equality.
 *
 * @module
 */
import { deepStrictEqual } from "node:assert/strict";

export function assert(cond: unknown, message = "assertion failed"): asserts cond {
  if (!cond) throw new Error(message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  deepStrictEqual(actual, expected, message);
}

/** Asserts that f throws an instance of `type`, and returns it. */
export function assertThrows<E extends Error>(
  f: () => unknown,
  // deno-lint-ignore no-explicit-any
  type: new (...args: any[]) => E,
  message?: string,
): E {
  try {
    f();
  } catch (e) {
    if (e instanceof type) return e;
    throw new Error(`${message ?? "assertThrows"}: wrong error ${e}`);
  }
  throw new Error(`${message ?? "assertThrows"}: did not throw`);
}

/** Asserts that f throws an error with the given `code`. */
export function assertCode(f: () => unknown, code: string, message?: string): void {
  try {
    f();
  } catch (e) {
    const got = (e as { code?: string }).code;
    if (got === code) return;
    throw new Error(`${message ?? "assertCode"}: expected code ${code}, got ${got} (${e})`);
  }
  throw new Error(`${message ?? "assertCode"}: did not throw (expected ${code})`);
}
