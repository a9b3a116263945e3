import { Hono } from "hono";
import { assertEquals, assertOk } from "../tests/fixtures/assert.ts";
import { ApiError, notFound, onError } from "../platform/mod.ts";
import { cacheControl } from "./cache_control.ts";
import { DEFAULT_OPTIONS, secureHeaders } from "./secure_headers.ts";
import { hstsFromEnv } from "./config.ts";

function app(): Hono {
  const a = new Hono();
  a.use("*", secureHeaders());
  a.use("*", cacheControl());
  a.onError(onError);
  a.notFound(notFound);
  a.get("/ok", (c) => c.text("ok"));
  a.get("/api/x", (c) => {
    c.header("Cache-Control", "public, max-age=60");
    return c.json({});
  });
  a.get("/boom", () => {
    throw new Error("secret detail");
  });
  a.get("/bad", () => {
    throw new ApiError(400, "bad_request", "nope");
  });
  return a;
}

Deno.test("secureHeaders() sets every header on success, 4xx, 404 and 500 alike", async () => {
  for (const path of ["/ok", "/bad", "/nowhere", "/boom"]) {
    const res = await app().request(path);
    await res.body?.cancel();
    const csp = res.headers.get("content-security-policy") ?? "";
    assertEquals(csp, DEFAULT_OPTIONS.contentSecurityPolicy, path);
    assertOk(csp.includes("script-src 'self' 'wasm-unsafe-eval'"));
    assertOk(!csp.includes("unsafe-inline") && !csp.includes("'unsafe-eval'"));
    assertEquals(res.headers.get("cross-origin-opener-policy"), "same-origin");
    assertEquals(res.headers.get("cross-origin-embedder-policy"), "require-corp");
    assertEquals(res.headers.get("referrer-policy"), "no-referrer");
    assertEquals(res.headers.get("x-content-type-options"), "nosniff");
    assertEquals(res.headers.get("strict-transport-security"), null);
    assertEquals(
      res.headers.get("integrity-policy"),
      "blocked-destinations=(script), endpoints=(integrity-endpoint)",
    );
    assertEquals(res.headers.get("reporting-endpoints"), 'integrity-endpoint="/api/reports"');
  }
});

Deno.test("workers may start only from blob: URLs (the page's SRI-checked bytes)", () => {
  const csp = DEFAULT_OPTIONS.contentSecurityPolicy;
  const worker = csp.split("; ").filter((d) => d.startsWith("worker-src "));
  assertEquals(worker, ["worker-src blob:"]);
  assertOk(csp.includes("require-trusted-types-for 'script'"));
  // Exactly the two policies that accept a verified blob: URL (the signing worker's and
  // the strength worker's), no 'allow-duplicates', no wildcard.
  const tt = csp.split("; ").filter((d) => d.startsWith("trusted-types "));
  assertEquals(tt, ["trusted-types roamsign roamsign-strength roamsign-documents"]);
});

Deno.test("a 500 says internal and nothing else", async () => {
  const res = await app().request("/boom");
  assertEquals(res.status, 500);
  assertEquals(await res.json(), { error: { code: "internal", message: "internal error" } });
});

Deno.test("cacheControl() forces no-store under /api/ and defaults to no-store elsewhere", async () => {
  const api = await app().request("/api/x");
  await api.body?.cancel();
  assertEquals(api.headers.get("cache-control"), "no-store");
  const other = await app().request("/ok");
  await other.body?.cancel();
  assertEquals(other.headers.get("cache-control"), "no-store");
});

Deno.test("HSTS=1 turns Strict-Transport-Security on; anything else leaves it off", () => {
  const before = Deno.env.get("HSTS");
  try {
    Deno.env.set("HSTS", "1");
    if (hstsFromEnv() !== "max-age=31536000; includeSubDomains") throw new Error("HSTS=1");
    Deno.env.set("HSTS", "yes");
    if (hstsFromEnv() !== false) throw new Error("HSTS=yes");
    Deno.env.delete("HSTS");
    if (hstsFromEnv() !== false) throw new Error("unset");
  } finally {
    if (before === undefined) Deno.env.delete("HSTS");
    else Deno.env.set("HSTS", before);
  }
});
