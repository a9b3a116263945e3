/**
 * The proxy's public face, and the internal contract every roamsign process
 * shares: the error envelope and structured logs (more land with the proxy).
 *
 * @module
 */
export * from "./errors.ts";
export * from "./log.ts";
