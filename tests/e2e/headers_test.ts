/// <reference lib="dom" />
/**
 * Security and cache headers on every route class of the real web server:
 * page, content-addressed JS / wasm / CSS, manifest, session API, channel API
 * (errors included), directory, CA, health, and an unknown path; and, in Chromium,
 * that the page starts under them with no violation and that `Integrity-Policy`
 * blocks and reports a script loaded without integrity.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { startStack } from "../../harness/mod.ts";
import { openApplet } from "./_applet.ts";

const COMMON: Record<string, (v: string | null) => boolean> = {
  "content-security-policy": (v) =>
    !!v && v.includes("script-src 'self' 'wasm-unsafe-eval'") &&
    v.includes("frame-ancestors 'none'") && !v.includes("unsafe-inline") &&
    !v.includes("'unsafe-eval'") && v.includes("default-src 'none'") &&
    // workers only from the page's SRI-checked bytes (server/secure_headers.ts)
    v.includes("worker-src blob:;") && !/worker-src[^;]*'self'/.test(v),
  "integrity-policy": (v) => v === "blocked-destinations=(script), endpoints=(integrity-endpoint)",
  "reporting-endpoints": (v) => v === 'integrity-endpoint="/api/reports"',
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
        { name: "strength worker script", path: e.strength, status: 200, cache: /immutable/ },
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
        {
          name: "directory history (unknown identity)",
          path: "/directory/nobody-here/history",
          status: 404,
          cache: /^no-(cache|store)$/,
        },
        { name: "CA certificate", path: "/ca.pem", status: 200, cache: /^no-cache$/ },
        { name: "CRL", path: "/crl.pem", status: 200, cache: /^no-cache$/ },
        { name: "host keys (no host here)", path: "/api/host", status: 404, cache: /^no-store$/ },
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

Deno.test({
  name: "[slow] Chromium: the applet starts under the policies; a script without SRI is blocked",
  ignore: !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ web: true });
    const browser = await launch();
    try {
      const base = stack.webUrl!;
      await t.step(
        "the page and its worker start with no CSP or Integrity-Policy report",
        async () => {
          const context = await browser.newContext();
          const { page, violations } = await pageWithCspRecorder(context);
          const blocked: string[] = [];
          page.on("console", (m) => {
            if (/integrity/i.test(m.text())) blocked.push(m.text());
          });
          assertEquals(await openApplet(page, base), "ready");
          // the worker runs from the verified bytes' blob: URL, which is revoked once it started
          const workers = page.workers().map((w) => w.url());
          assertEquals(workers.length, 1);
          assertOk(workers[0].startsWith(`blob:${base}/`), workers[0]);
          assertEquals(await violations(), []);
          assertEquals(blocked, []);
          await context.close();
        },
      );

      await t.step(
        "the page script without its integrity attribute is blocked and reported",
        async () => {
          const context = await browser.newContext();
          const page = await context.newPage();
          await page.addInitScript(() => {
            const w = globalThis as unknown as { __reports: string[] };
            w.__reports = [];
            new ReportingObserver((rs) => {
              for (const r of rs) {
                w.__reports.push(JSON.stringify({ type: r.type, url: r.url, body: r.body }));
              }
            }, { types: ["integrity-violation"], buffered: true }).observe();
          });
          // A box that strips SRI from the page: the browser itself refuses the script.
          await page.route(`${base}/`, async (route) => {
            const res = await route.fetch();
            const html = (await res.text()).replace(
              / integrity="sha384-[^"]+"><\/script>/,
              "></script>",
            );
            assertOk(!/<script[^>]*integrity/.test(html), "integrity stripped");
            await route.fulfill({ response: res, body: html });
          });
          const refused: string[] = [];
          page.on("requestfailed", (r) => refused.push(`${r.url()} ${r.failure()?.errorText}`));
          await page.goto(base);
          const pagePath =
            (await (await fetch(`${base}/.well-known/roamsign/manifest.json`)).json())
              .entries.page as string;
          assertOk(refused.includes(`${base}${pagePath} integrity`), refused.join(", "));
          await page.waitForFunction(() =>
            (globalThis as unknown as { __reports: string[] }).__reports.length > 0
          );
          const report = JSON.parse(
            await page.evaluate(() =>
              (globalThis as unknown as { __reports: string[] }).__reports[0]
            ),
          );
          assertEquals(report.type, "integrity-violation");
          assertEquals(report.body.blockedURL, `${base}${pagePath}`);
          assertEquals(report.body.destination, "script");
          assertEquals(report.body.reportOnly, false);
          // Chromium here did not deliver reports to the endpoint (not within 70 s, with or
          // without --short-reporting-delay); what it would post is logged as one line.
          const res = await fetch(`${base}/api/reports`, {
            method: "POST",
            headers: { "content-type": "application/reports+json" },
            body: JSON.stringify([report]),
          });
          await res.body?.cancel();
          assertEquals(res.status, 204);
          const line = await stack.web!.waitForLine((j) => j.event === "integrity_report", 10_000);
          assertEquals(line.blockedUrl, `${base}${pagePath}`);
          assertEquals(line.destination, "script");
          // the page script never ran
          assertEquals(
            await page.evaluate(() => document.documentElement.dataset.applet ?? null),
            null,
          );
          assertEquals(page.workers().length, 0);
          await context.close();
        },
      );
    } finally {
      await browser.close();
      await stack.stop();
    }
  },
});
