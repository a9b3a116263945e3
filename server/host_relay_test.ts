/**
 * The web server's relay to the bank against a small HTTP server standing in for
 * it (the real bank is exercised end to end in tests/e2e/lifecycle_test.ts): how
 * the bank's answers become the web server's.
 */
import { assertEquals, assertRejects } from "../tests/fixtures/assert.ts";
import { ApiError } from "../platform/mod.ts";
import { createHostRelay } from "./host_relay.ts";

type Handler = (req: Request) => Response | Promise<Response>;

async function withBank(handler: Handler, fn: (url: string) => Promise<void>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

const envelope = { key: "a2V5", iv: "aXY", ct: "Y3Q" };
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

Deno.test("HostRelay.submit() forwards the envelope and returns the sealed answer", async () => {
  let seen: unknown;
  let signedIn: string | null = null;
  await withBank(async (req) => {
    seen = await req.json();
    signedIn = req.headers.get("x-roamsign-signed-in");
    return json({ iv: "aXY", ct: "YW5zd2Vy" });
  }, async (url) => {
    const r = await createHostRelay({ url }).submit(envelope, "alice");
    assertEquals(r, { iv: "aXY", ct: "YW5zd2Vy" });
    assertEquals(seen, envelope);
    assertEquals(signedIn, "alice", "the bank learns who is signed in on the sending session");
  });
});

Deno.test("HostRelay.submit() passes the bank's 4xx codes on unchanged", async () => {
  await withBank(
    () => json({ error: { code: "duplicate_message", message: "executed before" } }, 409),
    async (url) => {
      const err = await assertRejects(
        () => createHostRelay({ url }).submit(envelope, "alice"),
        ApiError,
        "duplicate_message",
      );
      assertEquals((err as ApiError).status, 409);
    },
  );
});

Deno.test("HostRelay.submit(): a 5xx, a malformed answer or no bank at all is 503 host_unavailable", async () => {
  await withBank(() => json({ error: { code: "internal", message: "x" } }, 500), async (url) => {
    await assertRejects(
      () => createHostRelay({ url }).submit(envelope, "alice"),
      ApiError,
      "host_unavailable",
    );
  });
  await withBank(() => json({ iv: "not base64url!", ct: "" }), async (url) => {
    await assertRejects(
      () => createHostRelay({ url }).submit(envelope, "alice"),
      ApiError,
      "host_unavailable",
    );
  });
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assertRejects(
    () => createHostRelay({ url: `http://127.0.0.1:${port}` }).submit(envelope, "alice"),
    ApiError,
    "host_unavailable",
  );
});

Deno.test("HostRelay.submit(): a bank that does not answer in time is 504 host_timeout", async () => {
  let release!: () => void;
  const hang = new Promise<void>((r) => (release = r));
  await withBank(async () => {
    await hang;
    return json({});
  }, async (url) => {
    try {
      await assertRejects(
        () => createHostRelay({ url, timeoutMs: 100 }).submit(envelope, "alice"),
        ApiError,
        "host_timeout",
      );
    } finally {
      release();
    }
  });
});

Deno.test("HostRelay.keys() caches the bank's certificates for five minutes", async () => {
  let calls = 0;
  let now = 0;
  await withBank(() => {
    calls++;
    return json({ name: "bank", integrityCert: "I", confidentialityCert: "C", currency: "GBP" });
  }, async (url) => {
    const relay = createHostRelay({ url, now: () => now });
    assertEquals(await relay.keys(), {
      name: "bank",
      integrityCert: "I",
      confidentialityCert: "C",
      currency: "GBP",
    });
    await relay.keys();
    assertEquals(calls, 1);
    now += 5 * 60_000;
    await relay.keys();
    assertEquals(calls, 2);
  });
});

Deno.test("HostRelay.keys() refuses a bank that names no currency or a malformed one", async () => {
  for (const currency of [undefined, "gbp", "POUND"]) {
    await withBank(
      () => json({ name: "bank", integrityCert: "I", confidentialityCert: "C", currency }),
      async (url) => {
        const relay = createHostRelay({ url });
        const err = await relay.keys().then(() => null, (e) => e);
        assertEquals(err?.code, "host_unavailable", String(currency));
      },
    );
  }
});
