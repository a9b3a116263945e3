/**
 * Applet delivery: `GET /` (the page), `GET /applet/<sha256>.{js,wasm,css,svg}` (the
 * content-addressed files, immutable), `GET /favicon.ico` (the icon, for pages without a
 * `<link rel="icon">`) and `GET /.well-known/roamsign/manifest.json`,
 * read from the build's output directory on every request, so that what was built is
 * what is served, byte for byte (docs/applet.md).
 *
 * Only these static files are compressed: API answers carry ciphertext (incompressible)
 * and compressing secrets next to attacker-chosen text is how BREACH works. A
 * content-addressed file is compressed once and its gzip kept ({@link GzipCache}), checked
 * against the file's size and modification time at every request: the pass-phrase
 * strength worker (1.78 MB) took ≈ 81 ms of CPU to compress, each time a visitor opened
 * "New registration".
 *
 * @module
 */
import { gzip } from "node:zlib";
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

/** True when an `Accept-Encoding` header takes gzip (named, or `*`, with q > 0). */
export function acceptsGzip(header: string | undefined): boolean {
  let named: number | null = null;
  let any: number | null = null;
  for (const part of (header ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const qp = params.map((x) => x.trim()).find((x) => x.startsWith("q="));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (name === "gzip") named = Number.isFinite(q) ? q : 0;
    else if (name === "*") any = Number.isFinite(q) ? q : 0;
  }
  return (named ?? any ?? 0) > 0;
}

/**
 * gzip at the highest level: made once per file, so the level costs nothing per request,
 * and every byte saved is saved on each first visit (`CompressionStream`'s level gave the
 * applet's files ≈ 0.5 % more; docs/applet.md "How the files are sent").
 */
function _gzip9(bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    gzip(bytes, { level: 9 }, (err, out) => err ? reject(err) : resolve(new Uint8Array(out)))
  );
}

/**
 * The gzip of each content-addressed file, made once (at most {@link GzipCache.MAX}
 * files, the oldest dropped): a hit needs the same size and modification time on disk.
 */
export class GzipCache {
  static readonly MAX = 64;
  readonly #entries = new Map<string, { size: number; mtime: number; gz: Uint8Array }>();
  /** How many files were compressed (a measure for tests and operators). */
  compressions = 0;

  /** The gzip of `distDir/rel`, or null when it is not on disk. */
  async get(distDir: string, rel: string): Promise<Uint8Array | null> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(`${distDir}/${rel}`);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    const mtime = info.mtime?.getTime() ?? 0;
    const hit = this.#entries.get(rel);
    if (hit && hit.size === info.size && hit.mtime === mtime) return hit.gz;
    const bytes = await _readDist(distDir, rel);
    const gz = await _gzip9(bytes);
    this.compressions++;
    this.#entries.delete(rel);
    this.#entries.set(rel, { size: bytes.length, mtime, gz });
    if (this.#entries.size > GzipCache.MAX) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return gz;
  }
}

/** The routes, to mount at `/`; `distDir` holds `index.html`, `manifest.json` and `applet/`. */
export function appletRoutes(distDir: string, gzipCache = new GzipCache()): Hono {
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
    // Headers only once the file is found: a 404 keeps the error's own (no-store).
    if (m[2] !== "svg" && acceptsGzip(c.req.header("Accept-Encoding"))) {
      const gz = await gzipCache.get(distDir, `applet/${m[0]}`);
      if (!gz) throw new ApiError(404, "not_found", "not built");
      c.header("Cache-Control", IMMUTABLE);
      c.header("Vary", "Accept-Encoding");
      return c.body(gz as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": _CONTENT_TYPES[m[2]],
        "Content-Encoding": "gzip",
      });
    }
    const bytes = await _readDist(distDir, `applet/${m[0]}`);
    c.header("Cache-Control", IMMUTABLE);
    c.header("Vary", "Accept-Encoding");
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
