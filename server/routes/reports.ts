/**
 * `POST /api/reports`: the Reporting API endpoint that `Reporting-Endpoints` names
 * `integrity-endpoint` (server/secure_headers.ts). When the page's `Integrity-Policy`
 * blocks a script that came without integrity metadata, the browser posts an
 * `integrity-violation` report here; each one becomes one JSON log line, event
 * `integrity_report`, with the page and the blocked URL:
 *
 *   {"level":"warn","event":"integrity_report","documentUrl":"https://…/",
 *    "blockedUrl":"https://…/x.js","destination":"script","reportOnly":false,
 *    "client":"9c1e…"}
 *
 * Anyone can post here, so the route is bounded: `application/reports+json` only, at
 * most {@link REPORTS_BODY_LIMIT} bytes and {@link MAX_REPORTS} reports a body, each
 * logged field clipped to {@link MAX_FIELD} characters, and a per-address limit on
 * requests (the client address is logged as a tag, never as itself). Reports of other
 * types are not logged. The answer is 204 with no body.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../../platform/mod.ts";
import { identityTagSync, log } from "../../platform/mod.ts";
import type { AddressLimit } from "../address_limit.ts";

/** Largest accepted body. */
export const REPORTS_BODY_LIMIT = 64 * 1024;
/** Most reports in one body. */
export const MAX_REPORTS = 32;
/** Longest logged string (URLs are clipped). */
export const MAX_FIELD = 2048;

/** What the route needs. */
export interface ReportsDeps {
  /** Requests per client address (docs/rate-limits.md). */
  limit: AddressLimit;
  /** The request's client address (server/client_address.ts). */
  clientAddress: (c: Context) => string;
}

function _clip(v: unknown): string | null {
  return typeof v === "string" ? v.slice(0, MAX_FIELD) : null;
}

/** The route, to mount at `/api/reports`. */
export function reportsRoutes(deps: ReportsDeps): Hono {
  const app = new Hono();
  app.post(
    "/",
    bodyLimit({
      maxSize: REPORTS_BODY_LIMIT,
      onError: () => {
        throw new ApiError(413, "body_too_large", "report body larger than 64 KiB");
      },
    }),
    async function reportsHandler(c) {
      const client = deps.clientAddress(c);
      const wait = deps.limit.hit(client);
      if (wait > 0) {
        throw new ApiError(429, "rate_limited", "too many reports from this address", {
          retryAfterMs: wait,
        });
      }
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/reports\+json\s*(;|$)/i.test(type)) {
        throw new ApiError(415, "unsupported_media_type", "expected application/reports+json");
      }
      let reports: unknown;
      try {
        reports = JSON.parse(await c.req.text());
      } catch {
        throw new ApiError(400, "bad_json", "body is not JSON");
      }
      if (!Array.isArray(reports) || reports.length > MAX_REPORTS) {
        throw new ApiError(400, "bad_request", `expected an array of at most ${MAX_REPORTS}`);
      }
      const tag = client ? identityTagSync(`address\u0000${client}`) : null;
      for (const r of reports as { type?: unknown; url?: unknown; body?: unknown }[]) {
        if (r?.type !== "integrity-violation") continue;
        const body = (typeof r.body === "object" && r.body !== null ? r.body : {}) as Record<
          string,
          unknown
        >;
        log("warn", "integrity_report", {
          documentUrl: _clip(body.documentURL ?? r.url),
          blockedUrl: _clip(body.blockedURL),
          destination: _clip(body.destination),
          reportOnly: body.reportOnly === true,
          client: tag,
        });
      }
      return c.body(null, 204);
    },
  );
  return app;
}
