/**
 * Server-side plumbing shared by the web server, the proxy, the vault, the admin CLI
 * and the supervisor: the HTTP error envelope, JSON logs, metrics, HMAC request
 * signing, the operation allow-list with its schemas and rate-limit classes, the RPC
 * client, body reading, secrets and anchor files, the web server's key file, child
 * processes and the process topology (`topology.ts`). Nothing here pulls in database
 * code (proxy/mod_test.ts).
 *
 * @module
 */
export * from "./errors.ts";
export * from "./log.ts";
export * from "./metrics.ts";
export * from "./hmac.ts";
export * from "./ops.ts";
export * from "./upstream.ts";
export * from "./client.ts";
export * from "./body.ts";
export * from "./secrets.ts";
export * from "./anchor_files.ts";
export * from "./keys.ts";
export * from "./child.ts";
export * from "./topology.ts";
