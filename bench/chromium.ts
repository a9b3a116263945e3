/**
 * Debian Chromium through playwright-core, and the localhost server its pages come
 * from. The server listens on a free port (port 0) and sends every response with
 * `Cross-Origin-Opener-Policy`/`-Embedder-Policy`, so pages are cross-origin isolated
 * (`performance.now()` then has 5 µs instead of 100 µs resolution), and `no-store`,
 * so every applet start downloads and compiles afresh.
 *
 * @module
 */
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";

export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** One file the server hands out. */
export interface Served {
  body: Uint8Array | string;
  type: string;
}

export interface StaticServer {
  /** `http://localhost:<port>` (localhost is a secure context). */
  origin: string;
  /** Add or replace a file at an absolute path such as `/bench.js`. */
  put(path: string, file: Served): void;
  close(): Promise<void>;
}

const HEADERS = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
};

export function startServer(): StaticServer {
  const files = new Map<string, Served>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const f = files.get(new URL(req.url).pathname);
    if (!f) return new Response("not found", { status: 404, headers: HEADERS });
    return new Response(f.body as BodyInit, { headers: { ...HEADERS, "content-type": f.type } });
  });
  return {
    origin: `http://localhost:${server.addr.port}`,
    put: (path, file) => void files.set(path, file),
    close: () => server.shutdown(),
  };
}

/**
 * A server for a one-script page: `/` loads `/b.js` as a module, and the script can
 * fetch `/core.wasm` (the dev tools of wasm-crypto/ use it).
 */
export function servePage(js: Uint8Array, wasm: Uint8Array): StaticServer {
  const server = startServer();
  server.put("/b.js", { body: js, type: "text/javascript" });
  server.put("/core.wasm", { body: wasm, type: "application/wasm" });
  server.put("/", {
    body: `<!doctype html><script type=module src="/b.js"></script>`,
    type: "text/html",
  });
  return server;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Forward a page's `[bench]` console lines and uncaught errors to the log. */
export function forwardConsole(page: Page, log: (line: string) => void): void {
  page.on("console", (m) => {
    const t = m.text();
    if (t.startsWith("[bench]")) log(`[bench:chromium]${t.slice(7)}`);
    else if (m.type() === "error") log(`[chromium console] ${t}`);
  });
  page.on("pageerror", (e) => log(`[chromium page error] ${e.message}`));
}

/**
 * Run `f` with CDP CPU throttling at `rate` on the page (1 = none). The CDP session
 * stays attached for the duration, since emulation ends with the session.
 */
export async function withThrottling<T>(page: Page, rate: number, f: () => Promise<T>): Promise<T> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send("Emulation.setCPUThrottlingRate", { rate });
    return await f();
  } finally {
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 }).catch(() => {});
    await cdp.detach().catch(() => {});
  }
}

export const BLANK_HTML = `<!doctype html><meta charset="utf-8"><title>roamsign bench</title>`;
