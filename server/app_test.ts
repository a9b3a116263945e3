/**
 * The web server's KS(m,a) channel, in process: bootstrap, replay, reorder,
 * staleness, tampering, expiry and input errors. The vault here answers only
 * `ca.get` (from a throw-away CA); the relayed operations are covered by the
 * browser journey in tests/e2e/ against the real vault and proxy.
 */
import { assertEquals, assertOk } from "../tests/fixtures/assert.ts";
import { makeTestCa, x509 } from "../tests/fixtures/test_ca.ts";
import { b64uDecode, b64uEncode } from "../protocol/mod.ts";
import {
  bindingOf,
  deriveChannelKeys,
  drawKs,
  ksLabel,
  open,
  openRefusal,
  seal,
  type SessionOffer,
} from "../protocol/mod.ts";
import { fromUtf8, utf8 } from "../protocol/mod.ts";
import { parseCertificate, pemDecode } from "../protocol/mod.ts";
import { RpcError, Session } from "../applet/mod.ts";
import { ApiError } from "../platform/mod.ts";
import { createApp, type VaultCaller } from "./app.ts";
import { loadConfidentialityKey } from "../platform/mod.ts";
import { MemorySessionStore } from "./sessions.ts";
import { webCrypto } from "../tests/fixtures/web_crypto.ts";

let clock = Date.now();

async function server(
  cert: { subject?: string; keyUsage?: number; notBefore?: Date; notAfter?: Date } = {},
) {
  const ca = await makeTestCa();
  const dataDir = await Deno.makeTempDir({ prefix: "roamsign-app-test-" });
  const confidentiality = await loadConfidentialityKey(
    dataDir,
    (spki) => ca.issue(b64uDecode(spki), cert.subject ?? "roamsign confidentiality", cert),
  );
  const vault: VaultCaller = {
    call(op) {
      if (op === "ca.get") return Promise.resolve({ certificate: ca.pem });
      return Promise.reject(new ApiError(503, "vault_unavailable", "not in this test"));
    },
  };
  const sessions = new MemorySessionStore({ now: () => clock });
  const app = createApp({ vault, sessions, confidentiality, distDir: dataDir, now: () => clock });
  const fetcher =
    ((input: RequestInfo | URL, init?: RequestInit) =>
      app.request(input as string, init)) as typeof fetch;
  return { app, fetcher, sessions, dataDir, ca, anchors: await ca.anchors() };
}

/** Bootstraps by hand so the test holds the channel keys. */
async function handshake(fetcher: typeof fetch) {
  const offer = await (await fetcher("http://x/api/session")).json() as SessionOffer;
  const binding = bindingOf(offer);
  const ks = await drawKs(b64uDecode(offer.seed), binding);
  const spki = parseCertificate(pemDecode(offer.confidentialityCert)).spki;
  const wrapped = await webCrypto.encryptOaep(spki, ks, ksLabel(offer.sid));
  const res = await fetcher("http://x/api/session/key", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sid: offer.sid, key: b64uEncode(wrapped) }),
  });
  assertEquals(res.status, 200);
  await res.body?.cancel();
  return { offer, binding, ks, keys: await deriveChannelKeys(ks, binding), wrapped };
}

async function rpc(
  fetcher: typeof fetch,
  h: Awaited<ReturnType<typeof handshake>>,
  seq: number,
  body: unknown,
) {
  const sealed = await seal(h.keys.c2s, "c2s", h.binding, seq, utf8(JSON.stringify(body)));
  return post(fetcher, "/api/rpc", { sid: h.offer.sid, ...sealed });
}

async function post(fetcher: typeof fetch, path: string, body: unknown) {
  const res = await fetcher(`http://x${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { res, json: await res.json() };
}

Deno.test("Session.open() bootstraps the channel and the answer comes back sealed", async () => {
  const s = await server();
  const session = await Session.open({
    baseUrl: "http://x",
    crypto: webCrypto,
    anchors: s.anchors,
    fetch: s.fetcher,
  });
  const r = await session.call("session.close", {});
  assertEquals(r, { status: "closed" });
  assertEquals(s.sessions.size, 0);
});

/** Session.open() against a server, counting what the client POSTed. */
async function openCounting(s: Awaited<ReturnType<typeof server>>, anchors = s.anchors) {
  let posts = 0;
  const fetcher = ((input: RequestInfo | URL, init?: RequestInit) => {
    if (init?.method === "POST") posts++;
    return s.fetcher(input, init);
  }) as typeof fetch;
  const result = await Session.open({
    baseUrl: "http://x",
    crypto: webCrypto,
    anchors,
    fetch: fetcher,
  })
    .then((session) => ({ session, error: null }), (error) => ({ session: null, error }));
  return { ...result, posts };
}

Deno.test("Session.open() refuses a CA other than the pinned one and sends nothing", async () => {
  const s = await server();
  const other = await (await makeTestCa()).anchors();
  const r = await openCounting(s, { ...s.anchors, caSpkiSha256: other.caSpkiSha256 });
  assertOk(r.error instanceof RpcError && r.error.code === "untrusted_server", String(r.error));
  assertEquals(r.error.message, "This server's identity could not be verified; nothing was sent.");
  assertEquals(r.posts, 0);
});

Deno.test("Session.open() refuses an expired or not yet valid confidentiality certificate", async () => {
  const day = 86_400_000;
  for (
    const window of [
      { notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) },
      { notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 3 * day) },
    ]
  ) {
    const r = await openCounting(await server(window));
    assertOk(r.error instanceof RpcError && r.error.code === "untrusted_server", String(r.error));
    assertEquals((r.error as { reason?: string }).reason, "outside its validity period");
    assertEquals(r.posts, 0);
  }
});

Deno.test("Session.open() refuses a confidentiality certificate without keyEncipherment", async () => {
  const r = await openCounting(await server({ keyUsage: x509.KeyUsageFlags.digitalSignature }));
  assertOk(r.error instanceof RpcError && r.error.code === "untrusted_server", String(r.error));
  assertEquals((r.error as { reason?: string }).reason, "no keyEncipherment");
  assertEquals(r.posts, 0);
});

Deno.test("Session.open() refuses a certificate of the pinned CA for another subject", async () => {
  const r = await openCounting(await server({ subject: "alice" }));
  assertOk(r.error instanceof RpcError && r.error.code === "untrusted_server", String(r.error));
  assertEquals((r.error as { reason?: string }).reason, "unexpected subject");
  assertEquals(r.posts, 0);
});

Deno.test("/api/session offers N(s), T(s), R(s) and both certificates, with no-store", async () => {
  const s = await server();
  const res = await s.fetcher("http://x/api/session");
  assertEquals(res.headers.get("cache-control"), "no-store");
  const o = await res.json();
  assertEquals(b64uDecode(o.nonce).length, 32);
  assertEquals(b64uDecode(o.seed).length, 32);
  assertEquals(b64uDecode(o.sid).length, 16);
  assertOk(Math.abs(o.time - clock) < 1000);
  assertOk(o.integrityCert.includes("BEGIN CERTIFICATE"));
  assertOk(o.confidentialityCert.includes("BEGIN CERTIFICATE"));
});

Deno.test("a replayed request is refused with replayed_request", async () => {
  const s = await server();
  const h = await handshake(s.fetcher);
  const sealed = await seal(
    h.keys.c2s,
    "c2s",
    h.binding,
    1,
    utf8(JSON.stringify({ op: "message.submit", ts: clock, args: { message: "", signature: "" } })),
  );
  const first = await post(s.fetcher, "/api/rpc", { sid: h.offer.sid, ...sealed });
  assertEquals(first.json.error.code, "not_signed_in");
  const again = await post(s.fetcher, "/api/rpc", { sid: h.offer.sid, ...sealed });
  assertEquals(again.res.status, 409);
  assertEquals(again.json.error.code, "replayed_request");
});

Deno.test("a skipped sequence number is refused with out_of_order", async () => {
  const s = await server();
  const h = await handshake(s.fetcher);
  const r = await rpc(s.fetcher, h, 2, { op: "session.close", ts: clock, args: {} });
  assertEquals(r.res.status, 409);
  assertEquals(r.json.error.code, "out_of_order");
});

Deno.test("a request whose timestamp is two minutes old is refused with stale_request", async () => {
  const s = await server();
  const h = await handshake(s.fetcher);
  const r = await rpc(s.fetcher, h, 1, { op: "session.close", ts: clock - 120_000, args: {} });
  assertEquals(r.res.status, 400);
  assertEquals(r.json.error.code, "stale_request");
  // The stale request was authentic, so its number is used up.
  const next = await rpc(s.fetcher, h, 1, { op: "session.close", ts: clock, args: {} });
  assertEquals(next.json.error.code, "replayed_request");
});

Deno.test("a tampered request is refused and does not advance the sequence", async () => {
  const s = await server();
  const h = await handshake(s.fetcher);
  const sealed = await seal(
    h.keys.c2s,
    "c2s",
    h.binding,
    1,
    utf8(JSON.stringify({ op: "session.close", ts: clock, args: {} })),
  );
  const ct = b64uDecode(sealed.ct);
  ct[3] ^= 4;
  const bad = await post(s.fetcher, "/api/rpc", {
    sid: h.offer.sid,
    ...sealed,
    ct: b64uEncode(ct),
  });
  assertEquals(bad.res.status, 400);
  assertEquals(bad.json.error.code, "bad_ciphertext");
  const good = await post(s.fetcher, "/api/rpc", { sid: h.offer.sid, ...sealed });
  assertEquals(good.res.status, 200);
  const answer = await open(h.keys.s2c, "s2c", h.binding, good.json);
  assertEquals(JSON.parse(fromUtf8(answer)), { status: "closed" });
});

Deno.test("a refusal of an opened request carries the ack of its number; earlier refusals none", async () => {
  const s = await server();
  const h = await handshake(s.fetcher);
  const sealed = await seal(
    h.keys.c2s,
    "c2s",
    h.binding,
    1,
    utf8(JSON.stringify({ op: "admin.users", ts: clock, args: {} })),
  );
  const first = await post(s.fetcher, "/api/rpc", { sid: h.offer.sid, ...sealed });
  assertEquals([first.res.status, first.json.error.code], [400, "unknown_op"]);
  assertEquals(await openRefusal(h.keys.s2c, h.binding, 1, first.json.error.ack), "unknown_op");
  // Sent again, refused before it is opened: no ack, and still no second chance.
  const again = await post(s.fetcher, "/api/rpc", { sid: h.offer.sid, ...sealed });
  assertEquals([again.json.error.code, again.json.error.ack], ["replayed_request", undefined]);
  const skipped = await rpc(s.fetcher, h, 3, { op: "session.close", ts: clock, args: {} });
  assertEquals([skipped.json.error.code, skipped.json.error.ack], ["out_of_order", undefined]);
  const next = await rpc(s.fetcher, h, 2, { op: "session.close", ts: clock, args: {} });
  assertEquals(next.res.status, 200);
});

/** A Session whose answers pass through `rewrite`; counts its POSTs to /api/rpc. */
async function rewritingSession(
  s: Awaited<ReturnType<typeof server>>,
  rewrite: (status: number, body: Record<string, unknown>) => Record<string, unknown>,
) {
  const counter = { posts: 0 };
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await s.fetcher(input, init);
    if (!String(input).endsWith("/api/rpc")) return res;
    counter.posts++;
    const body = rewrite(res.status, await res.json());
    return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
  }) as typeof fetch;
  const session = await Session.open({
    baseUrl: "http://x",
    crypto: webCrypto,
    anchors: s.anchors,
    fetch: fetcher,
  });
  return { session, counter };
}

Deno.test("Session: after a refusal with its ack the next request goes at once", async () => {
  const s = await server();
  const { session, counter } = await rewritingSession(s, (_, b) => b);
  const err = await session.call("admin.users", {}).then(() => null, (e) => e);
  assertEquals(err?.code, "unknown_op");
  assertEquals(await session.call("session.close", {}), { status: "closed" });
  assertEquals(counter.posts, 2);
});

Deno.test("Session: an ack stripped on the way costs one replayed_request, then all goes on", async () => {
  const s = await server();
  const { session, counter } = await rewritingSession(s, (status, b) => {
    if (status >= 400) delete (b.error as Record<string, unknown>).ack;
    return b;
  });
  const err = await session.call("admin.users", {}).then(() => null, (e) => e);
  assertEquals(err?.code, "unknown_op");
  assertEquals(await session.call("session.close", {}), { status: "closed" });
  assertEquals(counter.posts, 3); // the refusal, replayed_request, the request again
});

Deno.test("Session: an ack that is not for this request is not proof that its number is used", async () => {
  const s = await server();
  let kept: Record<string, unknown> | null = null;
  let breakNext = false;
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (!String(input).endsWith("/api/rpc")) return s.fetcher(input, init);
    // The second request arrives broken, so the server refuses it before opening it…
    const sent = breakNext ? { ...init, body: '{"sid":"x"}' } : init;
    const res = await s.fetcher(input, sent);
    const body = await res.json();
    if (res.status >= 400 && kept === null) kept = body.error.ack; // seq 1's genuine ack
    // …and the answer carries seq 1's ack, relabelled as seq 2's.
    else if (breakNext) body.error.ack = { ...kept, seq: 2 };
    breakNext = false;
    return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
  }) as typeof fetch;
  const session = await Session.open({
    baseUrl: "http://x",
    crypto: webCrypto,
    anchors: s.anchors,
    fetch: fetcher,
  });
  assertEquals(await session.call("admin.users", {}).catch((e) => e.code), "unknown_op");
  breakNext = true;
  assertEquals(await session.call("admin.users", {}).catch((e) => e.code), "bad_request");
  // Had the client believed the ack, it would now send 3 and hear out_of_order.
  assertEquals(await session.call("session.close", {}), { status: "closed" });
});

Deno.test("Session: an answer lost after the server used the number costs one replayed_request", async () => {
  const s = await server();
  let posts = 0;
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await s.fetcher(input, init);
    if (!String(input).endsWith("/api/rpc")) return res;
    if (++posts === 1) throw new TypeError("connection reset"); // handled, never heard
    return res;
  }) as typeof fetch;
  const session = await Session.open({
    baseUrl: "http://x",
    crypto: webCrypto,
    anchors: s.anchors,
    fetch: fetcher,
  });
  const lost = await session.call("admin.users", {}).catch((e) => e.code);
  assertEquals(lost, "server_unreachable");
  assertEquals(await session.call("session.close", {}), { status: "closed" });
  assertEquals(posts, 3); // lost, replayed_request, sent again with the next number
});

Deno.test("Session: a body over 256 KiB is refused before it is sent; the session goes on", async () => {
  const s = await server();
  const { session, counter } = await rewritingSession(s, (_, b) => b);
  const err = await session.call("message.submit", { message: "A".repeat(300 * 1024) })
    .then(() => null, (e) => e);
  assertOk(err instanceof RpcError);
  assertEquals([err.code, counter.posts], ["body_too_large", 0]);
  assertEquals(await session.call("session.close", {}), { status: "closed" });
  assertEquals(counter.posts, 1);
});

Deno.test("a KS wrapped for another session is refused with bad_session_key", async () => {
  const s = await server();
  const a = await handshake(s.fetcher);
  const offer = await (await s.fetcher("http://x/api/session")).json();
  const r = await post(s.fetcher, "/api/session/key", {
    sid: offer.sid,
    key: b64uEncode(a.wrapped),
  });
  assertEquals(r.res.status, 400);
  assertEquals(r.json.error.code, "bad_session_key");
  const again = await post(s.fetcher, "/api/session/key", {
    sid: a.offer.sid,
    key: b64uEncode(a.wrapped),
  });
  assertEquals(again.json.error.code, "session_already_keyed");
});

Deno.test("an idle session expires after 10 minutes", async () => {
  const s = await server();
  const h = await handshake(s.fetcher);
  clock += 10 * 60_000 + 1;
  try {
    const r = await rpc(s.fetcher, h, 1, { op: "session.close", ts: clock, args: {} });
    assertEquals(r.res.status, 401);
    assertEquals(r.json.error.code, "session_expired");
  } finally {
    clock = Date.now();
  }
});

Deno.test("message.submit before sign-in is refused with not_signed_in", async () => {
  const s = await server();
  const session = await Session.open({
    baseUrl: "http://x",
    crypto: webCrypto,
    anchors: s.anchors,
    fetch: s.fetcher,
  });
  try {
    await session.call("message.submit", { message: "aGk", signature: "AA" });
    throw new Error("expected an error");
  } catch (err) {
    assertOk(err instanceof RpcError);
    assertEquals(err.code, "not_signed_in");
    assertEquals(err.status, 401);
  }
});

Deno.test("bad envelopes get 4xx with stable codes, never 500", async () => {
  const s = await server();
  const h = await handshake(s.fetcher);
  const cases: [RequestInit, number, string][] = [
    [
      { method: "POST", body: "{", headers: { "content-type": "application/json" } },
      400,
      "bad_json",
    ],
    [
      { method: "POST", body: "{}", headers: { "content-type": "text/plain" } },
      415,
      "unsupported_media_type",
    ],
    [
      {
        method: "POST",
        body: JSON.stringify({ sid: h.offer.sid, seq: 0, iv: "", ct: "" }),
        headers: { "content-type": "application/json" },
      },
      400,
      "bad_request",
    ],
    [
      {
        method: "POST",
        body: JSON.stringify({ sid: "AAAAAAAAAAAAAAAAAAAAAA", seq: 1, iv: "", ct: "" }),
        headers: { "content-type": "application/json" },
      },
      401,
      "unknown_session",
    ],
    [
      {
        method: "POST",
        body: JSON.stringify({ sid: h.offer.sid, seq: 1, iv: "AAAA", ct: "AAAA", extra: 1 }),
        headers: { "content-type": "application/json" },
      },
      400,
      "bad_request",
    ],
    [
      {
        method: "POST",
        body: "x".repeat(300 * 1024),
        headers: { "content-type": "application/json" },
      },
      413,
      "body_too_large",
    ],
  ];
  for (const [init, status, code] of cases) {
    const res = await s.fetcher("http://x/api/rpc", init);
    const j = await res.json();
    assertEquals([res.status, j.error.code], [status, code]);
  }
  const unknownOp = await rpc(s.fetcher, h, 1, { op: "admin.users", ts: clock, args: {} });
  assertEquals([unknownOp.res.status, unknownOp.json.error.code], [400, "unknown_op"]);
  const badArgs = await rpc(s.fetcher, h, 2, { op: "consent", ts: clock, args: { phrase: 5 } });
  assertEquals([badArgs.res.status, badArgs.json.error.code], [400, "bad_request"]);
});

Deno.test("the confidentiality key file is private (0600) and reused on restart", async () => {
  const s = await server();
  const st = await Deno.stat(`${s.dataDir}/web/confidentiality-key.pem`);
  assertEquals((st.mode ?? 0) & 0o777, 0o600);
  const again = await loadConfidentialityKey(
    s.dataDir,
    () => Promise.reject(new Error("must not ask again")),
  );
  assertOk(again.certificate.includes("BEGIN CERTIFICATE"));
});

Deno.test("reregister, revoke, reauth.start and host.submit before sign-in are refused with not_signed_in", async () => {
  const s = await server();
  const session = await Session.open({
    baseUrl: "http://x",
    crypto: webCrypto,
    anchors: s.anchors,
    fetch: s.fetcher,
  });
  const signed = { nonce: "A".repeat(43), signature: "A".repeat(342) };
  const calls: [string, Record<string, unknown>][] = [
    ["reregister", {
      identity: "alice",
      spki: "AAAA",
      keyRecord: {},
      registrationRecord: "AAAA",
      ...signed,
    }],
    ["revoke", { identity: "alice", ...signed }],
    ["reauth.start", { identity: "alice", startLoginRequest: "A".repeat(43) }],
    ["host.submit", { key: "AAAA", iv: "AAAA", ct: "AAAA" }],
  ];
  for (const [op, args] of calls) {
    const err = await session.call(op, args).then(() => null, (e) => e);
    assertOk(err instanceof RpcError, `${op}: ${err}`);
    assertEquals([op, err.code, err.status], [op, "not_signed_in", 401]);
  }
});

Deno.test("reauth.finish without a reauth.start in this session is no_pending_login", async () => {
  const s = await server();
  const session = await Session.open({
    baseUrl: "http://x",
    crypto: webCrypto,
    anchors: s.anchors,
    fetch: s.fetcher,
  });
  const err = await session.call("reauth.finish", {
    loginId: "A".repeat(22),
    finishLoginRequest: "A".repeat(43),
  }).then(() => null, (e) => e);
  assertOk(err instanceof RpcError, String(err));
  assertEquals([err.code, err.status], ["no_pending_login", 409]);
});

Deno.test("/api/host is 404 no_host when no bank is configured", async () => {
  const s = await server();
  const res = await s.fetcher("http://x/api/host");
  assertEquals(res.status, 404);
  assertEquals((await res.json()).error.code, "no_host");
  assertEquals(res.headers.get("cache-control"), "no-store");
});
