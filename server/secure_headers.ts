/**
 * Security headers on every response (DESIGN.md §2.1): a strict Content
 * Security Policy (`script-src 'self' 'wasm-unsafe-eval'`, no inline script or
 * eval, Trusted Types for the one script-URL sink the page has), no framing,
 * COOP/COEP/CORP so the page is cross-origin isolated, no referrer, no MIME
 * sniffing, no powerful features.
 *
 * @module
 */
import type { Context, MiddlewareHandler, Next } from "hono";

/** Header values; `false` leaves a header out. */
export interface SecureHeadersOptions {
  contentSecurityPolicy: string;
  crossOriginOpenerPolicy: string;
  crossOriginEmbedderPolicy: string;
  crossOriginResourcePolicy: string;
  referrerPolicy: string;
  xContentTypeOptions: string;
  xFrameOptions: string;
  permissionsPolicy: string;
  /** Only behind a TLS terminator (`HSTS=1`); localhost development runs plain HTTP. */
  strictTransportSecurity: string | false;
}

/** The HSTS header when `HSTS=1` (behind a TLS terminator, README), else none. */
export function hstsFromEnv(): string | false {
  let on: string | undefined;
  try {
    on = Deno.env.get("HSTS");
  } catch {
    on = undefined; // no env permission: off
  }
  return on === "1" ? "max-age=31536000; includeSubDomains" : false;
}

/** The policy roamsign ships with. */
export const DEFAULT_OPTIONS: SecureHeadersOptions = {
  contentSecurityPolicy: [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    "connect-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types roamsign",
  ].join("; "),
  crossOriginOpenerPolicy: "same-origin",
  crossOriginEmbedderPolicy: "require-corp",
  crossOriginResourcePolicy: "same-origin",
  referrerPolicy: "no-referrer",
  xContentTypeOptions: "nosniff",
  xFrameOptions: "DENY",
  permissionsPolicy: "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()",
  strictTransportSecurity: hstsFromEnv(),
};

/** Sets the headers after the handler ran, on every response including errors. */
export function secureHeaders(options: Partial<SecureHeadersOptions> = {}): MiddlewareHandler {
  const o = { ...DEFAULT_OPTIONS, ...options };
  const headers: [string, string | false][] = [
    ["Content-Security-Policy", o.contentSecurityPolicy],
    ["Cross-Origin-Opener-Policy", o.crossOriginOpenerPolicy],
    ["Cross-Origin-Embedder-Policy", o.crossOriginEmbedderPolicy],
    ["Cross-Origin-Resource-Policy", o.crossOriginResourcePolicy],
    ["Referrer-Policy", o.referrerPolicy],
    ["X-Content-Type-Options", o.xContentTypeOptions],
    ["X-Frame-Options", o.xFrameOptions],
    ["Permissions-Policy", o.permissionsPolicy],
    ["Strict-Transport-Security", o.strictTransportSecurity],
  ];
  return async function secureHeadersHandler(c: Context, next: Next) {
    await next();
    for (const [name, value] of headers) {
      if (value !== false) c.res.headers.set(name, value);
    }
  };
}
