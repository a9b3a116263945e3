/**
 * Applet delivery: `GET /` (the page), `GET /applet/<sha256>.{js,wasm,css,svg}` (the
 * content-addressed files, immutable), `GET /favicon.ico` (the icon, for pages without a
 * `<link rel="icon">`) and `GET /.well-known/roamsign/manifest.json`,
 * read from the build's output directory on every request, so that what was built is
 * what is served, byte for byte (docs/applet.md).
 *
 * Only these static files are compressed: API answers carry ciphertext (incompressible)
 * and compressing secrets next to attacker-chosen text is how BREACH works.
 *
 * @module
 */
import { Hono } from "hono";
import { compress } from "hono/compress";
import { ApiError } from "../../platform/mod.ts";
import { IMMUTABLE } from "../cache_control.ts";

const _CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  wasm: "application/wasm",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

/** The routes, to mount at `/`; `distDir` holds `index.html`, `manifest.json` and `applet/`. */
export function appletRoutes(distDir: string): Hono {
  const app = new Hono();
  for (const path of ["/", "/applet/*", "/.well-known/*"]) app.use(path, compress());

  app.get("/", async (c) => {
    const html = await _readDist(distDir, "index.html");
    c.header("Cache-Control", "no-cache");
    return c.body(html as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": "text/html; charset=utf-8",
    });
  });
  app.get("/.well-known/roamsign/manifest.json", async (c) => {
    const bytes = await _readDist(distDir, "manifest.json");
    c.header("Cache-Control", "no-cache");
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "Content-Type": "application/json" });
  });
  app.get("/favicon.ico", async (c) => {
    const manifest = JSON.parse(
      new TextDecoder().decode(await _readDist(distDir, "manifest.json")),
    );
    const icon = /^\/applet\/[0-9a-f]{64}\.svg$/.exec(manifest?.entries?.icon ?? "");
    if (!icon) throw new ApiError(404, "not_found", "no icon");
    const bytes = await _readDist(distDir, icon[0].slice(1));
    c.header("Cache-Control", "public, max-age=86400");
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "Content-Type": _CONTENT_TYPES.svg });
  });
  app.get("/applet/:file", async (c) => {
    const m = /^([0-9a-f]{64})\.(js|wasm|css|svg)$/.exec(c.req.param("file"));
    if (!m) throw new ApiError(404, "not_found", "no such applet file");
    const bytes = await _readDist(distDir, `applet/${m[0]}`);
    c.header("Cache-Control", IMMUTABLE);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "Content-Type": _CONTENT_TYPES[m[2]] });
  });
  return app;
}

async function _readDist(distDir: string, rel: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(`${distDir}/${rel}`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new ApiError(404, "not_found", "not built");
    throw err;
  }
}
