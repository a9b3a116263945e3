/**
 * The proxy's public face, and the internal contract every roamsign process shares:
 * the error envelope, structured logs, HMAC request signing, the operation allow-list
 * with its schemas and rate-limit classes, the RPC client, the secrets files, consent
 * phrases and the bytes users sign. Nothing here pulls in database code.
 *
 * @module
 */
export * from "../platform/errors.ts";
export * from "../platform/log.ts";
export * from "../platform/hmac.ts";
export * from "../platform/ops.ts";
export * from "../platform/client.ts";
export * from "../platform/secrets.ts";
export * from "../protocol/consent_phrase.ts";
export * from "../protocol/user_request.ts";
export * from "../platform/body.ts";
export * from "../platform/metrics.ts";
export { createProxyApp, type ProxyOptions } from "./server.ts";
