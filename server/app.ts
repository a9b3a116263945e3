/**
 * The public web server (DESIGN.md §1, §2 steps 1–7): serves the applet and
 * its manifest, bootstraps sessions, carries the KS(m,a) channel, relays the
 * user's operations to the vault through the proxy, verifies submitted
 * signatures with WebCrypto, and shows the public directory.
 *
 * {@link createApp} is the composition: the middleware every answer passes, then one
 * sub-app per group of routes (docs/architecture.md "Public web server"), each in
 * `server/routes/`:
 *
 * | mounted at      | routes                                                            | file           |
 * | --------------- | ----------------------------------------------------------------- | -------------- |
 * | `/`             | `GET /`, `/applet/<sha256>.{js,wasm,css}`, the manifest           | `applet.ts`    |
 * | `/api/session`  | `GET /api/session`, `POST /api/session/key`                       | `session.ts`   |
 * | `/api/rpc`      | `POST /api/rpc` (the channel; its operations: `operations.ts`)    | `rpc.ts`       |
 * | `/`             | `GET /directory/<identity>[/history]`, `/ca.pem`, `/crl.pem`      | `directory.ts` |
 * | `/api/host`     | `GET /api/host`                                                   | `host.ts`      |
 * | `/api/reports`  | `POST /api/reports` (Integrity-Policy reports)                    | `reports.ts`   |
 *
 * and `GET /healthz`, `GET /readyz` (server/operator.ts) here.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError, notFound, onError } from "../platform/mod.ts";
import { type ConfidentialityKey, httpMetrics, mountReadiness } from "../platform/mod.ts";
import type { ReadinessCheck } from "../platform/mod.ts";
import { RPC_BODY_MAX_BYTES } from "../protocol/mod.ts";
import { accessLog } from "./access_log.ts";
import { AddressLimit } from "./address_limit.ts";
import { cacheControl } from "./cache_control.ts";
import { clientAddressOf } from "./client_address.ts";
import type { HostRelay } from "./host_relay.ts";
import { integrityCertSource } from "./integrity_cert.ts";
import { logRefusal } from "./refusal_log.ts";
import { secureHeaders } from "./secure_headers.ts";
import type { SessionStore } from "./sessions.ts";
import type { VaultCaller } from "./vault_caller.ts";
import { appletRoutes } from "./routes/applet.ts";
import { directoryRoutes } from "./routes/directory.ts";
import { hostRoutes } from "./routes/host.ts";
import { reportsRoutes } from "./routes/reports.ts";
import { rpcRoutes } from "./routes/rpc.ts";
import { sessionRoutes } from "./routes/session.ts";

export type { VaultCaller };

/** What the app needs. */
export interface AppDeps {
  vault: VaultCaller;
  sessions: SessionStore;
  confidentiality: ConfidentialityKey;
  /** Directory holding `index.html`, `manifest.json` and `applet/`. */
  distDir: string;
  /** The host application (examples/host-bank), if one is configured. */
  host?: HostRelay;
  /** `/readyz` checks (server/operator.ts); without them `/readyz` is not served. */
  readiness?: Record<string, ReadinessCheck>;
  /** Per-address limit on opening sessions (docs/rate-limits.md); none if absent. */
  sessionLimit?: AddressLimit;
  /** Per-address limit on `POST /api/reports` (default 30 a minute). */
  reportLimit?: AddressLimit;
  /** TLS terminators whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`); none if absent. */
  trustedProxies?: ReadonlySet<string>;
  /** The `Strict-Transport-Security` value (`HSTS=1`, server/config.ts); none if absent. */
  hsts?: string | false;
  now?: () => number;
}

/** Builds the hono app. */
export function createApp(deps: AppDeps): Hono {
  const now = deps.now ?? (() => Date.now());
  const clientAddress = clientAddressOf(deps.trustedProxies ?? new Set());
  const app = new Hono();
  app.use("*", accessLog());
  app.use("*", httpMetrics()); // exposed on the operator listener only (server/operator.ts)
  app.use("*", secureHeaders({ strictTransportSecurity: deps.hsts ?? false }));
  app.use("*", cacheControl());
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: RPC_BODY_MAX_BYTES,
      onError: () => {
        throw new ApiError(
          413,
          "body_too_large",
          "The request is larger than 256 KiB, so it was not read; nothing was done.",
        );
      },
    }),
  );
  app.onError((err, c) => {
    logRefusal(err, c, clientAddress(c));
    return onError(err, c);
  });
  app.notFound(notFound);

  const { vault, sessions, confidentiality, sessionLimit, host } = deps;
  const integrityCert = integrityCertSource(vault, now); // /api/session and /ca.pem share it
  const reportLimit = deps.reportLimit ?? new AddressLimit({ limit: 30, windowMs: 60_000 });
  app.route("/", appletRoutes(deps.distDir));
  app.get("/healthz", (c) => c.json({ ok: true, service: "web" }));
  app.route("/api/reports", reportsRoutes({ limit: reportLimit, clientAddress }));
  if (deps.readiness) mountReadiness(app, deps.readiness);
  app.route(
    "/api/session",
    sessionRoutes({ sessions, confidentiality, integrityCert, sessionLimit, clientAddress }),
  );
  app.route("/api/rpc", rpcRoutes({ vault, sessions, host, clientAddress, now }));
  app.route("/", directoryRoutes({ vault, integrityCert, clientAddress }));
  app.route("/api/host", hostRoutes(host));
  return app;
}
