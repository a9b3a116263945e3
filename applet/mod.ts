/**
 * The applet's public face: the client half of roamsign's protocols, shared by
 * the browser applet, Deno load clients and tests.
 *
 * @module
 */
export * from "../protocol/base64url.ts";
export * from "../protocol/registration.ts";
