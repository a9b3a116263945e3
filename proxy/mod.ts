/**
 * The proxy's public face (the patent's fire-wall 137): its hono app. What it shares
 * with the other processes (HMAC, the op schemas, the error envelope, logs, metrics)
 * is platform/mod.ts; the process itself is `main.ts`.
 *
 * @module
 */
export { createProxyApp, type ProxyOptions } from "./server.ts";
