import { Hono } from "hono";
import { assertEquals, assertOk } from "../../tests/fixtures/assert.ts";
import { notFound, onError } from "../../platform/mod.ts";
import { AddressLimit } from "../address_limit.ts";
import { MAX_FIELD, MAX_REPORTS, REPORTS_BODY_LIMIT, reportsRoutes } from "./reports.ts";

const REPORTS = "application/reports+json";

function app(limit = 100): Hono {
  const a = new Hono();
  a.onError(onError);
  a.notFound(notFound);
  a.route(
    "/api/reports",
    reportsRoutes({
      limit: new AddressLimit({ limit, windowMs: 60_000 }),
      clientAddress: () => "198.51.100.7",
    }),
  );
  return a;
}

/** Runs `fn` and returns the JSON lines it logged (warnings go to stderr). */
async function logged(fn: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (line: string) => lines.push(line);
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return lines.map((l) => JSON.parse(l));
}

function violation(blockedURL: string) {
  return {
    type: "integrity-violation",
    age: 10,
    url: "http://127.0.0.1:8000/",
    user_agent: "test",
    body: {
      documentURL: "http://127.0.0.1:8000/",
      blockedURL,
      destination: "script",
      reportOnly: false,
    },
  };
}

function post(a: Hono, body: string, type = REPORTS) {
  return a.request("/api/reports", {
    method: "POST",
    headers: { "content-type": type },
    body,
  });
}

Deno.test("POST /api/reports logs each integrity violation as one line and answers 204", async () => {
  const a = app();
  let status = 0;
  const lines = await logged(async () => {
    const res = await post(
      a,
      JSON.stringify([
        violation("http://127.0.0.1:8000/evil.js"),
        { type: "deprecation", url: "http://127.0.0.1:8000/", body: { id: "x" } },
        violation("http://127.0.0.1:8000/other.js"),
      ]),
    );
    status = res.status;
    await res.body?.cancel();
  });
  assertEquals(status, 204);
  assertEquals(lines.length, 2);
  assertEquals(lines.map((l) => l.event), ["integrity_report", "integrity_report"]);
  assertEquals(lines[0].blockedUrl, "http://127.0.0.1:8000/evil.js");
  assertEquals(lines[1].blockedUrl, "http://127.0.0.1:8000/other.js");
  assertEquals(lines[0].documentUrl, "http://127.0.0.1:8000/");
  assertEquals(lines[0].destination, "script");
  assertOk(!JSON.stringify(lines).includes("198.51.100.7"), "the address is logged as a tag");
});

Deno.test("POST /api/reports clips long URLs", async () => {
  const lines = await logged(async () => {
    const res = await post(app(), JSON.stringify([violation("x".repeat(10_000))]));
    await res.body?.cancel();
  });
  assertEquals((lines[0].blockedUrl as string).length, MAX_FIELD);
});

Deno.test("POST /api/reports refuses other media types, non-arrays and too many reports", async () => {
  const a = app();
  const cases: [string, string, number][] = [
    [JSON.stringify([violation("u")]), "application/json", 415],
    ["{", REPORTS, 400],
    [JSON.stringify({ type: "integrity-violation" }), REPORTS, 400],
    [JSON.stringify(Array(MAX_REPORTS + 1).fill(violation("u"))), REPORTS, 400],
  ];
  for (const [body, type, want] of cases) {
    const lines = await logged(async () => {
      const res = await post(a, body, type);
      await res.body?.cancel();
      assertEquals(res.status, want, `${type} ${body.slice(0, 40)}`);
    });
    assertEquals(lines.filter((l) => l.event === "integrity_report"), []);
  }
});

Deno.test("POST /api/reports refuses a body over the size limit", async () => {
  const res = await post(app(), JSON.stringify([violation("x".repeat(REPORTS_BODY_LIMIT))]));
  await res.body?.cancel();
  assertEquals(res.status, 413);
});

Deno.test("POST /api/reports limits requests per address", async () => {
  const a = app(2);
  const statuses: number[] = [];
  await logged(async () => {
    for (let i = 0; i < 3; i++) {
      const res = await post(a, JSON.stringify([violation("u")]));
      await res.body?.cancel();
      statuses.push(res.status);
    }
  });
  assertEquals(statuses, [204, 204, 429]);
});
