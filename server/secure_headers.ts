/**
 * Security headers on every response (DESIGN.md §2.1): a strict Content
 * Security Policy (`script-src 'self' 'wasm-unsafe-eval'`, no inline script or
 * eval, Trusted Types for the one script-URL sink the page has), no framing,
 * COOP/COEP/CORP so the page is cross-origin isolated, no referrer, no MIME
 * sniffing, no powerful features, and an `Integrity-Policy` for scripts.
 *
 * **Why `worker-src blob:`** (and not `'self'`). `new Worker(url)` has no Subresource
 * Integrity, and the worker is what holds the pass phrase, OPAQUE and SKu. So the page
 * fetches the worker's bytes itself with `fetch(url, { integrity })` (the SHA-384 is in
 * the page, which is itself the root of the chain), wraps the verified bytes in a Blob
 * and starts the worker from its `blob:` URL (applet/page.ts `_verifiedWorkerUrl`).
 * Nothing else starts a worker, so `'self'` is not allowed at all: a worker from any
 * URL of this origin would be one whose bytes nobody checked. `blob:` lets in only
 * blobs made by a script that already runs on the page (every one of them SRI-checked,
 * see below), and Trusted Types narrows it further: the `roamsign` policy, the only way
 * to a script URL, accepts just the one `blob:` URL the page made from verified bytes,
 * and the page revokes it once the worker has started. A worker from a `blob:` URL
 * inherits this policy (CSP, COEP) from the page. The pass-phrase strength worker, loaded
 * on demand (docs/passphrase.md), is started the same way through its own policy,
 * `roamsign-strength`, which likewise accepts only the one `blob:` URL made from its
 * verified bytes (applet/passphrase/checker.ts); so is the document worker, loaded when
 * "Sign a document" is opened (docs/documents.md), through `roamsign-documents`
 * (applet/documents/client.ts).
 *
 * **Integrity-Policy.** `blocked-destinations=(script)` makes the browser refuse any
 * script loaded without integrity metadata, so a script tag added without SRI is
 * blocked, not just unchecked; each refusal is reported to `integrity-endpoint`
 * (`Reporting-Endpoints`), the web server's `POST /api/reports`, which logs it.
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
  /** Scripts without integrity metadata are refused and reported (module doc). */
  integrityPolicy: string | false;
  /** Where the browser sends reports (the `integrity-endpoint` of `integrityPolicy`). */
  reportingEndpoints: string | false;
  /** Only behind a TLS terminator (`HSTS=1`); localhost development runs plain HTTP. */
  strictTransportSecurity: string | false;
}

/** The policy roamsign ships with. */
export const DEFAULT_OPTIONS: SecureHeadersOptions = {
  contentSecurityPolicy: [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src blob:", // the SRI-checked worker bytes (module doc)
    "connect-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    // one policy per SRI-checked worker (module doc)
    "trusted-types roamsign roamsign-strength roamsign-documents",
  ].join("; "),
  crossOriginOpenerPolicy: "same-origin",
  crossOriginEmbedderPolicy: "require-corp",
  crossOriginResourcePolicy: "same-origin",
  referrerPolicy: "no-referrer",
  xContentTypeOptions: "nosniff",
  xFrameOptions: "DENY",
  permissionsPolicy: "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()",
  integrityPolicy: "blocked-destinations=(script), endpoints=(integrity-endpoint)",
  reportingEndpoints: 'integrity-endpoint="/api/reports"',
  strictTransportSecurity: false, // `HSTS=1` (server/config.ts) turns it on in createApp
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
    ["Integrity-Policy", o.integrityPolicy],
    ["Reporting-Endpoints", o.reportingEndpoints],
    ["Strict-Transport-Security", o.strictTransportSecurity],
  ];
  return async function secureHeadersHandler(c: Context, next: Next) {
    await next();
    for (const [name, value] of headers) {
      if (value !== false) c.res.headers.set(name, value);
    }
  };
}
