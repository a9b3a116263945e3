/**
 * The applet's public face: the client half of roamsign's protocols (the session
 * channel's client and the flows: register, sign in, sign, lifecycle, host), shared
 * by the browser applet, Deno load clients and tests. What both ends agree on is
 * protocol/mod.ts.
 *
 * @module
 */
export * from "./client/session.ts";
export * from "./client/flows/mod.ts";
export { callWithPow, powChallengeOf, solvePow } from "./client/pow.ts";
// The worker bundle's hand-off of the OPAQUE client's checked wasm (server/opaque_split.ts).
export { provideOpaqueWasm } from "./opaque_wasm.ts";
