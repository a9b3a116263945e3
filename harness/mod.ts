/**
 * The development harness shared by the tests and the benchmarks (never shipped, never
 * imported by a process): a real roamsign stack started as child processes on free ports
 * (`stack.ts`), synthetic users that drive the vault's operations through the proxy
 * (`user.ts`), an HTTP forwarder that can hold an answer back (`http_gate.ts`), a
 * throw-away Redis (`redis.ts`), and several web servers and proxies behind HAProxy
 * (`scale_out.ts`).
 * `tests/` and `bench/` import it through this file.
 *
 * @module
 */
export * from "./stack.ts";
export * from "./user.ts";
export * from "./http_gate.ts";
export * from "./redis.ts";
export * from "./scale_out.ts";
