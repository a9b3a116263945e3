/**
 * One JSON log line per request: method, route pattern (never the raw path,
 * which may name a person), status and duration. No bodies, no headers.
 *
 * @module
 */
import type { Context, MiddlewareHandler, Next } from "hono";
import { log } from "../platform/mod.ts";

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /** Paths logged at `debug` instead of `info` (static files, health checks). */
  quietPrefixes: string[];
}

/** Values roamsign uses. */
export const DEFAULT_OPTIONS: AccessLogOptions = {
  quietPrefixes: ["/applet/", "/healthz"],
};

/** Logs each request after it was answered. */
export function accessLog(options: Partial<AccessLogOptions> = {}): MiddlewareHandler {
  const o = { ...DEFAULT_OPTIONS, ...options };
  return async function accessLogHandler(c: Context, next: Next) {
    const started = performance.now();
    await next();
    const quiet = o.quietPrefixes.some((p) => c.req.path.startsWith(p));
    log(quiet ? "debug" : "info", "request", {
      method: c.req.method,
      route: c.req.routePath || "(none)",
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  };
}
