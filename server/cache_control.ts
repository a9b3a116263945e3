/**
 * Cache-Control by route class: content-addressed applet files are immutable
 * for a year; everything else (API answers, the page, the manifest, the
 * directory) defaults to `no-store` unless its handler chose something else.
 * API answers are always `no-store`, whatever the handler said.
 *
 * @module
 */
import type { Context, MiddlewareHandler, Next } from "hono";

/** Cache policies. */
export interface CacheControlOptions {
  /** For responses whose handler set nothing. */
  fallback: string;
  /** Forced on every path under these prefixes. */
  noStorePrefixes: string[];
}

/** Values roamsign uses. */
export const DEFAULT_OPTIONS: CacheControlOptions = {
  fallback: "no-store",
  noStorePrefixes: ["/api/"],
};

/** What content-addressed files send. */
export const IMMUTABLE = "public, max-age=31536000, immutable";

/** Sets Cache-Control after the handler ran. */
export function cacheControl(options: Partial<CacheControlOptions> = {}): MiddlewareHandler {
  const o = { ...DEFAULT_OPTIONS, ...options };
  return async function cacheControlHandler(c: Context, next: Next) {
    await next();
    const path = c.req.path;
    if (o.noStorePrefixes.some((p) => path.startsWith(p))) {
      c.res.headers.set("Cache-Control", "no-store");
    } else if (!c.res.headers.has("Cache-Control")) {
      c.res.headers.set("Cache-Control", o.fallback);
    }
  };
}
