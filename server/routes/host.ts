/**
 * `GET /api/host`: the host application's name and public certificates, PUB(i,h) and
 * PUB(c,h) (server/host_relay.ts, cached there); `404 no_host` without a bank
 * (docs/host-bank.md). Messages to the bank go through the channel (`host.submit`,
 * server/routes/operations.ts), not through this route.
 *
 * @module
 */
import { Hono } from "hono";
import { ApiError } from "../../platform/mod.ts";
import type { HostRelay } from "../host_relay.ts";

/** The route, to mount at `/api/host`. */
export function hostRoutes(host: HostRelay | undefined): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    if (!host) throw new ApiError(404, "no_host", "no host application is configured");
    return c.json(await host.keys());
  });
  return app;
}
