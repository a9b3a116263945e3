/**
 * Placeholder web server, so that `deno task start` runs its three processes until
 * the web server issue lands and replaces this file: `GET /healthz`, and a page that
 * says what is running. It serves no applet and relays nothing.
 *
 * @module
 */
import { Hono } from "hono";
import { notFound, onError } from "../proxy/errors.ts";
import { configureLog, log } from "../proxy/log.ts";

configureLog("web");

const app = new Hono();
app.onError(onError);
app.notFound(notFound);
app.get("/healthz", (c) => c.json({ ok: true, service: "web", placeholder: true }));
app.get("/", (c) =>
  c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>roamsign</title></head>
<body><h1>roamsign</h1>
<p>The key-vault and the fire-wall proxy are running. The web server and the applet land
with their issue; this page is a placeholder until then.</p></body></html>`,
  ));

if (import.meta.main) {
  const server = Deno.serve({
    hostname: Deno.env.get("HOST") || "127.0.0.1",
    port: Number(Deno.env.get("PORT") || 8000),
    onListen: ({ hostname, port }) =>
      log("info", "listening", { hostname, port, placeholder: true }),
  }, app.fetch);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      await server.shutdown();
      Deno.exit(0);
    });
  }
}
