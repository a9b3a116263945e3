/**
 * Security and cache headers on every route class of the real web server:
 * page, content-addressed JS / wasm / CSS, manifest, session API, channel API
 * (errors included), directory, CA, health, and an unknown path.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { startStack } from "../fixtures/stack.ts";

const COMMON: Record<string, (v: string | null) => boolean> = {
  "content-security-policy": (v) =>
    !!v && v.includes("script-src 'self' 'wasm-unsafe-eval'") &&
    v.includes("frame-ancestors 'none'") && !v.includes("unsafe-inline") &&
    !v.includes("'unsafe-eval'") && v.includes("default-src 'none'"),
  "cross-origin-opener-policy": (v) => v === "same-origin",
  "cross-origin-embedder-policy": (v) => v === "require-corp",
  "cross-origin-resource-policy": (v) => v === "same-origin",
  "referrer-policy": (v) => v === "no-referrer",
  "x-content-type-options": (v) => v === "nosniff",
  "x-frame-options": (v) => v === "DENY",
};

Deno.test({
  name: "[slow] every route class carries the security headers and its cache policy",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const stack = await startStack({ web: true });
    try {
      const base = stack.webUrl!;
      const manifest = await (await fetch(`${base}/.well-known/roamsign/manifest.json`)).json();
      const e = manifest.entries;
      const cases: {
        name: string;
        init?: RequestInit;
        path: string;
        status: number;
        cache: RegExp;
      }[] = [
        { name: "page", path: "/", status: 200, cache: /^no-cache$/ },
        {
          name: "manifest",
          path: "/.well-known/roamsign/manifest.json",
          status: 200,
          cache: /^no-cache$/,
        },
        { name: "page script", path: e.page, status: 200, cache: /immutable/ },
        { name: "worker script", path: e.worker, status: 200, cache: /immutable/ },
        { name: "wasm", path: e.wasm, status: 200, cache: /immutable/ },
        { name: "style", path: e.style, status: 200, cache: /immutable/ },
        {
          name: "unknown applet file",
          path: `/applet/${"0".repeat(64)}.js`,
          status: 404,
          cache: /^no-store$/,
        },
        { name: "session", path: "/api/session", status: 200, cache: /^no-store$/ },
        {
          name: "channel error",
          path: "/api/rpc",
          init: { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
          status: 400,
          cache: /^no-store$/,
        },
        {
          name: "session key error",
          path: "/api/session/key",
          init: { method: "POST", headers: { "content-type": "application/json" }, body: "[" },
          status: 400,
          cache: /^no-store$/,
        },
        {
          name: "directory (unknown identity)",
          path: "/directory/nobody-here",
          status: 404,
          cache: /^no-(cache|store)$/,
        },
        {
          name: "directory (bad identity)",
          path: "/directory/%20x",
          status: 400,
          cache: /^no-(cache|store)$/,
        },
        { name: "CA certificate", path: "/ca.pem", status: 200, cache: /^no-cache$/ },
        { name: "health", path: "/healthz", status: 200, cache: /^no-store$/ },
        { name: "unknown path", path: "/no/such/thing", status: 404, cache: /^no-store$/ },
      ];
      for (const c of cases) {
        const res = await fetch(base + c.path, c.init);
        const body = await res.text();
        assertEquals(res.status, c.status, `${c.name}: status (${body.slice(0, 200)})`);
        for (const [header, ok] of Object.entries(COMMON)) {
          assertOk(
            ok(res.headers.get(header)),
            `${c.name}: ${header} = ${res.headers.get(header)}`,
          );
        }
        assertOk(
          c.cache.test(res.headers.get("cache-control") ?? ""),
          `${c.name}: cache-control ${res.headers.get("cache-control")}`,
        );
        if (res.status >= 400) {
          const j = JSON.parse(body);
          assertOk(
            typeof j.error?.code === "string" && typeof j.error?.message === "string",
            `${c.name}: envelope`,
          );
          assertOk(!/at .*\.ts:\d+/.test(body), `${c.name}: no stack trace`);
        }
      }
      // The page loads its script and style with SRI.
      const html = await (await fetch(base + "/")).text();
      assertOk(
        /<script type="module" src="\/applet\/[0-9a-f]{64}\.js" integrity="sha384-[A-Za-z0-9+/=]+">/
          .test(html),
      );
      assertOk(
        /<link rel="stylesheet" href="\/applet\/[0-9a-f]{64}\.css" integrity="sha384-/.test(html),
      );
      // Static files are served compressed when asked.
      const gz = await fetch(base + e.worker, { headers: { "accept-encoding": "gzip" } });
      await gz.body?.cancel();
      assertEquals(gz.headers.get("content-encoding"), "gzip");
    } finally {
      await stack.stop();
    }
  },
});
