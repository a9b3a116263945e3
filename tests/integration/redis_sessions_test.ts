/**
 * Sessions in Redis (server/redis_sessions.ts), in process: two web-server apps on one
 * redis-server of ours (never the machine's shared one), the applet's own channel client.
 * Any request to either app; the same sealed request to both at once accepted exactly once;
 * nothing usable in Redis; Redis down → 503 `session_store_unavailable` at once; Redis
 * restarted → the session is gone (`unknown_session`). Skipped when redis-server cannot run.
 * The browser, several processes and HAProxy: tests/e2e/scale_out_test.ts.
 */
import { createClient } from "@redis/client";
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { makeTestCa } from "../fixtures/test_ca.ts";
import { webCrypto } from "../fixtures/web_crypto.ts";
import { redisUnavailable, startRedis, type TestRedis } from "../../harness/mod.ts";
import {
  b64uDecode,
  b64uEncode,
  bindingOf,
  deriveChannelKeyBytes,
  deriveChannelKeys,
  drawKs,
  ksLabel,
  openRefusal,
  parseCertificate,
  pemDecode,
  seal,
  type SessionOffer,
  toHex,
  utf8,
} from "../../protocol/mod.ts";
import { RpcError, Session } from "../../applet/mod.ts";
import { ApiError, loadConfidentialityKey } from "../../platform/mod.ts";
import { createApp, RedisSessionStore, SessionSealer } from "../../server/mod.ts";
import type { VaultCaller } from "../../server/mod.ts";

const skip = await redisUnavailable();
if (skip) console.warn(`redis session tests skipped: ${skip}`);

const WEB_KEY = crypto.getRandomValues(new Uint8Array(32));

/** Two apps ("web servers") sharing one Redis and one confidentiality key. */
async function twoServers(
  redis: TestRedis,
  options: { idleMs?: number; webKey?: Uint8Array; vault?: VaultCaller["call"] } = {},
) {
  const ca = await makeTestCa();
  const dataDir = await Deno.makeTempDir({ prefix: "roamsign-redis-test-" });
  const confidentiality = await loadConfidentialityKey(
    dataDir,
    (spki) => ca.issue(b64uDecode(spki), "roamsign confidentiality"),
  );
  const vault: VaultCaller = {
    call(op, body, client) {
      if (op === "ca.get") return Promise.resolve({ certificate: ca.pem });
      if (options.vault) return options.vault(op, body, client);
      return Promise.reject(new ApiError(503, "vault_unavailable", "not in this test"));
    },
  };
  const stores: RedisSessionStore[] = [];
  const app = async (webKey: Uint8Array) => {
    const sealer = await SessionSealer.fromSecret(webKey);
    const sessions = RedisSessionStore.open({ url: redis.url, sealer, idleMs: options.idleMs });
    stores.push(sessions);
    const a = createApp({ vault, sessions, confidentiality, distDir: dataDir });
    return ((input: RequestInfo | URL, init?: RequestInit) =>
      a.request(input as string, init)) as typeof fetch;
  };
  const a = await app(WEB_KEY);
  const b = await app(options.webKey ?? WEB_KEY);
  await Promise.all(stores.map((s) => _ready(s)));
  let turn = 0;
  const counts = [0, 0];
  /** Round robin over the two, as a load balancer without affinity. */
  const balanced = ((input: RequestInfo | URL, init?: RequestInit) => {
    const i = turn++ % 2;
    counts[i]++;
    return (i === 0 ? a : b)(input, init);
  }) as typeof fetch;
  return {
    a,
    b,
    balanced,
    counts,
    anchors: await ca.anchors(),
    async close() {
      await Promise.all(stores.map((s) => s.close()));
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

async function _ready(store: RedisSessionStore): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await store.check().then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("redis store never became ready");
}

/** Bootstraps by hand so the test holds KS and the channel keys. */
async function handshake(fetcher: typeof fetch) {
  const offer = await (await fetcher("http://x/api/session")).json() as SessionOffer;
  const binding = bindingOf(offer);
  const ks = await drawKs(b64uDecode(offer.seed), binding);
  const spki = parseCertificate(pemDecode(offer.confidentialityCert)).spki;
  const wrapped = await webCrypto.encryptOaep(spki, ks, ksLabel(offer.sid));
  const res = await post(fetcher, "/api/session/key", { sid: offer.sid, key: b64uEncode(wrapped) });
  assertEquals(res.res.status, 200);
  return { offer, binding, ks, keys: await deriveChannelKeys(ks, binding) };
}

async function post(fetcher: typeof fetch, path: string, body: unknown) {
  const res = await fetcher(`http://x${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { res, json: await res.json() };
}

async function withRedis(fn: (redis: TestRedis) => Promise<void>): Promise<void> {
  const redis = await startRedis();
  try {
    await fn(redis);
  } finally {
    await redis.stop();
  }
}

const submit = { op: "message.submit", args: { message: "", signature: "" } };

Deno.test({
  name: "redis sessions: a session opened on one web server goes on on the other, in turn",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withRedis(async (redis) => {
      const s = await twoServers(redis);
      try {
        const session = await Session.open({
          baseUrl: "http://x",
          crypto: webCrypto,
          anchors: s.anchors,
          fetch: s.balanced,
        });
        // Refused after they were opened: each number used up, on alternating servers.
        for (let i = 0; i < 6; i++) {
          const err = await session.call(submit.op, submit.args).catch((e) => e);
          assertOk(err instanceof RpcError && err.code === "not_signed_in", String(err));
        }
        assertEquals(await session.call("session.close", {}), { status: "closed" });
        assertEquals(s.counts, [5, 4]); // GET + 6 rpc + close + key: 9 requests in turn
      } finally {
        await s.close();
      }
    }),
});

Deno.test({
  name: "redis sessions: the same sealed request sent to two web servers at once is accepted once",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withRedis(async (redis) => {
      const s = await twoServers(redis);
      try {
        const h = await handshake(s.a);
        for (let seq = 1; seq <= 20; seq++) {
          const body = utf8(JSON.stringify({ ...submit, ts: Date.now() }));
          const sealed = await seal(h.keys.c2s, "c2s", h.binding, seq, body);
          const envelope = { sid: h.offer.sid, ...sealed };
          const both = await Promise.all([
            post(s.a, "/api/rpc", envelope),
            post(s.b, "/api/rpc", envelope),
          ]);
          const acks = await Promise.all(
            both.map((r) => openRefusal(h.keys.s2c, h.binding, seq, r.json.error?.ack)),
          );
          // Exactly one opened it (its refusal carries the sealed ack); the other refused
          // the copy before acting on it.
          assertEquals(acks.filter((a) => a === "not_signed_in").length, 1, `seq ${seq}`);
          const other = both[acks[0] === null ? 0 : 1].json.error.code;
          assertOk(["replayed_request", "request_in_flight"].includes(other), other);
        }
      } finally {
        await s.close();
      }
    }),
});

Deno.test({
  name: "redis sessions: Redis holds nothing usable: keys sealed, TTL the idle limit",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withRedis(async (redis) => {
      const s = await twoServers(redis, { idleMs: 60_000 });
      const raw = createClient({ url: redis.url });
      raw.on("error", () => {});
      await raw.connect();
      try {
        const h = await handshake(s.a);
        const direction = await deriveChannelKeyBytes(h.ks, h.binding);
        const key = `roamsign:session:{${h.offer.sid}}`;
        const fields = await raw.hGetAll(key) as Record<string, string>;
        const text = Object.values(fields).join(" ");
        for (const secret of [h.ks, direction.c2s, direction.s2c]) {
          for (const form of [b64uEncode(secret), toHex(secret)]) assertOk(!text.includes(form));
        }
        assertOk(fields.k && b64uDecode(fields.k).length === 12 + 64 + 16, "sealed keys");
        const ttl = await raw.pTTL(key) as number;
        assertOk(ttl > 55_000 && ttl <= 60_000, `ttl ${ttl}`);
        // A web server with another web-tier key cannot use the session: 503, not a 500.
        const other = await twoServers(redis, {
          webKey: crypto.getRandomValues(new Uint8Array(32)),
        });
        try {
          const body = utf8(JSON.stringify({ ...submit, ts: Date.now() }));
          const sealed = await seal(h.keys.c2s, "c2s", h.binding, 1, body);
          const r = await post(other.b, "/api/rpc", { sid: h.offer.sid, ...sealed });
          assertEquals(r.res.status, 503);
          assertEquals(r.json.error.code, "session_store_unavailable");
        } finally {
          await other.close();
        }
      } finally {
        await raw.close();
        await s.close();
      }
    }),
});

Deno.test({
  name:
    "redis sessions: Redis down → 503 session_store_unavailable at once; restarted → session gone",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withRedis(async (redis) => {
      const s = await twoServers(redis);
      try {
        const session = await Session.open({
          baseUrl: "http://x",
          crypto: webCrypto,
          anchors: s.anchors,
          fetch: s.balanced,
        });
        await redis.kill();
        for (const path of ["rpc", "session"]) {
          const t0 = performance.now();
          const err = path === "rpc"
            ? await session.call(submit.op, submit.args).catch((e) => e)
            : await s.a("http://x/api/session").then(async (r) => ({
              status: r.status,
              ...(await r.json()).error,
            }));
          assertOk(performance.now() - t0 < 2_000, "answered within 2 s, not a hang");
          assertEquals(err.code, "session_store_unavailable");
          assertEquals(err.status, 503);
          if (err instanceof RpcError) assertOk(err.retryable);
        }
        assertOk(!session.closed, "a store that is down does not end the session");
        await redis.start(); // empty: no persistence
        let err: unknown;
        for (let i = 0; i < 100; i++) {
          err = await session.call(submit.op, submit.args).catch((e) => e);
          if ((err as RpcError).code !== "session_store_unavailable") break;
          await new Promise((r) => setTimeout(r, 50)); // the client reconnects with backoff
        }
        assertEquals((err as RpcError).code, "unknown_session");
        assertOk(session.closed, "the applet's client knows the session ended");
      } finally {
        await s.close();
      }
    }),
});

Deno.test({
  name: "redis sessions: an idle session expires in Redis (TTL), and is then unknown",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withRedis(async (redis) => {
      const s = await twoServers(redis, { idleMs: 300 });
      try {
        const h = await handshake(s.a);
        await new Promise((r) => setTimeout(r, 600));
        const body = utf8(JSON.stringify({ ...submit, ts: Date.now() }));
        const sealed = await seal(h.keys.c2s, "c2s", h.binding, 1, body);
        const r = await post(s.b, "/api/rpc", { sid: h.offer.sid, ...sealed });
        assertEquals(r.json.error.code, "unknown_session");
      } finally {
        await s.close();
      }
    }),
});

Deno.test({
  name: "redis sessions: a passkey sign-in started on one web server finishes on the other",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withRedis(async (redis) => {
      // The per-session passkey state (the vault challenge this session started,
      // docs/passkeys.md) lives in the sealed user state, so it travels with the session.
      const challengeId = b64uEncode(crypto.getRandomValues(new Uint8Array(16)));
      const finished: string[] = [];
      const s = await twoServers(redis, {
        vault: (op, body) => {
          if (op === "passkey.login.start") return Promise.resolve({ challengeId });
          if (op === "passkey.login.finish") {
            finished.push(String(body.challengeId));
            return Promise.resolve({ registration: { identity: "pkredis" } });
          }
          return Promise.reject(new ApiError(503, "vault_unavailable", "not in this test"));
        },
      });
      try {
        const session = await Session.open({
          baseUrl: "http://x",
          crypto: webCrypto,
          anchors: s.anchors,
          fetch: s.balanced,
        });
        const binding = b64uEncode(crypto.getRandomValues(new Uint8Array(32)));
        const response = { id: "x", type: "public-key" };
        assertEquals(
          (await session.call("passkey.login.start", { binding })).challengeId,
          challengeId,
        );
        // Another challenge than the one this session started: refused, whichever server.
        const other = b64uEncode(crypto.getRandomValues(new Uint8Array(16)));
        const err = await session.call("passkey.login.finish", { challengeId: other, response })
          .catch((e) => e);
        assertOk(err instanceof RpcError && err.code === "no_pending_login", String(err));
        assertEquals(
          await session.call("passkey.login.finish", { challengeId, response }),
          { registration: { identity: "pkredis" } },
        );
        assertEquals(finished, [challengeId]);
        // Signed in on both servers now; the challenge is used up.
        const again = await session.call("passkey.login.finish", { challengeId, response })
          .catch((e) => e);
        assertOk(again instanceof RpcError && again.code === "no_pending_login", String(again));
        const list = await session.call("passkey.list", { identity: "pkredis" }).catch((e) => e);
        assertOk(list instanceof RpcError && list.code === "vault_unavailable", String(list));
        assertOk(s.counts[0] > 0 && s.counts[1] > 0, "both servers took part");
      } finally {
        await s.close();
      }
    }),
});
