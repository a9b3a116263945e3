/// <reference lib="dom" />
/**
 * Many web servers behind one address (issue 19), in Debian Chromium against real
 * processes: one vault on PostgreSQL, two proxies, two web servers with their sessions in
 * one Redis of this test's own (never the machine's shared one), behind HAProxy (round
 * robin, no affinity):
 *
 * - the whole journey (apply, consent, sign in, sign) passes with consecutive requests
 *   landing on different web servers (counted from their access logs);
 * - the same sealed request sent to both web servers at once is accepted exactly once;
 * - one web server SIGKILLed while the user is signed in: the next request lands on the
 *   other, the user is still signed in and signs; the killed one comes back (a rolling
 *   restart) and serves the same session;
 * - Redis down: the applet shows the retryable `session_store_unavailable`, not a 500 and
 *   not a hang; Redis restarted (empty): "Your session ended … sign in again", and signing
 *   in again works.
 *
 * Skipped, saying why, without Chromium, PostgreSQL, redis-server or haproxy.
 */
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { webCrypto } from "../fixtures/web_crypto.ts";
import {
  haproxyUnavailable,
  type LoadBalancer,
  postgresAvailable,
  redisUnavailable,
  type Stack,
  startHaproxy,
  startRedis,
  startStack,
  startWebTier,
  type TestRedis,
  type WebTier,
} from "../../harness/mod.ts";
import {
  b64uDecode,
  b64uEncode,
  bindingOf,
  deriveChannelKeys,
  drawKs,
  ksLabel,
  openRefusal,
  parseCertificate,
  pemDecode,
  seal,
  type SessionOffer,
  utf8,
} from "../../protocol/mod.ts";
import {
  applyInPage,
  consentInPage,
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  outcome,
  signInInPage,
  signInPageMessage,
} from "./_applet.ts";

async function _skipReason(): Promise<string | null> {
  if (!haveChromium()) return "no Chromium";
  return await redisUnavailable() ?? await haproxyUnavailable() ??
    (await postgresAvailable() ? null : "no PostgreSQL");
}

const skip = await _skipReason();
if (skip) console.warn(`scale-out test skipped: ${skip}`);

/** A session opened by hand through the load balancer, so the test holds its keys. */
async function handshake(url: string) {
  const offer = await (await fetch(`${url}/api/session`)).json() as SessionOffer;
  const binding = bindingOf(offer);
  const ks = await drawKs(b64uDecode(offer.seed), binding);
  const spki = parseCertificate(pemDecode(offer.confidentialityCert)).spki;
  const wrapped = await webCrypto.encryptOaep(spki, ks, ksLabel(offer.sid));
  const res = await post(url, "/api/session/key", { sid: offer.sid, key: b64uEncode(wrapped) });
  assertEquals(res.status, 200);
  return { offer, binding, keys: await deriveChannelKeys(ks, binding) };
}

async function post(url: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** How often consecutive requests changed server. */
function switches(order: number[]): number {
  let n = 0;
  for (let i = 1; i < order.length; i++) if (order[i] !== order[i - 1]) n++;
  return n;
}

Deno.test({
  name: "[slow] scale-out: two web servers on Redis behind HAProxy, one killed, Redis restarted",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    let redis: TestRedis | undefined;
    let stack: Stack | undefined;
    let tier: WebTier | undefined;
    let lb: LoadBalancer | undefined;
    const browser = await launch();
    try {
      redis = await startRedis();
      stack = await startStack({ db: "postgres", ksf: KSF_DEFAULT });
      tier = await startWebTier(stack, redis, { count: 2 });
      lb = await startHaproxy(tier.webs);
      const [r, s, w, balancer] = [redis, stack, tier, lb];
      const user = newUser("so");
      const passphrase = newPassphrase();
      const { page, violations } = await pageWithCspRecorder(await browser.newContext());
      const sign = async (what: string) => {
        const sig = await signInPageMessage(page, `${what}: ${crypto.randomUUID()}`);
        assertOk(sig.length > 300, "a signature is shown");
      };

      await t.step("the journey passes with requests on both web servers in turn", async () => {
        assertEquals(await openApplet(page, balancer.url), "ready");
        assertEquals(await applyInPage(page, user, passphrase), null);
        const phrase = await consentPhraseFor(s, user.identity);
        assertEquals(await consentInPage(page, user, phrase), null);
        assertEquals(await signInInPage(page, user.identity, passphrase), null);
        await sign("first");
        const counts = w.rpcCounts();
        const order = w.rpcOrder();
        console.log(
          `rpc requests per web server ${JSON.stringify(counts)}, order ${order.join("")}`,
        );
        assertOk(counts.every((n) => n >= 2), `both served: ${counts}`);
        assertOk(switches(order) >= order.length / 3, `alternating: ${order.join("")}`);
      });

      await t.step("the same sealed request sent to both at once is accepted once", async () => {
        const h = await handshake(balancer.url);
        for (let seq = 1; seq <= 10; seq++) {
          const body = utf8(JSON.stringify({
            op: "message.submit",
            ts: Date.now(),
            args: { message: "", signature: "" },
          }));
          const sealed = await seal(h.keys.c2s, "c2s", h.binding, seq, body);
          const envelope = { sid: h.offer.sid, ...sealed };
          const both = await Promise.all(w.webs.map((web) => post(web.url, "/api/rpc", envelope)));
          const acks = await Promise.all(
            both.map((x) => openRefusal(h.keys.s2c, h.binding, seq, x.json.error?.ack)),
          );
          assertEquals(acks.filter((a) => a === "not_signed_in").length, 1, `seq ${seq}`);
          const other = both[acks[0] === null ? 0 : 1].json.error.code;
          assertOk(["replayed_request", "request_in_flight"].includes(other), other);
        }
      });

      await t.step("web server 1 SIGKILLed: still signed in, signs on web server 2", async () => {
        const before = w.rpcCounts();
        await w.killWeb(0);
        await sign("after the kill");
        await sign("after the kill, again");
        const after = w.rpcCounts();
        assertEquals(after[0], before[0]);
        assertOk(after[1] >= before[1] + 2, `web server 2 took over: ${before} → ${after}`);
        assertEquals(await page.locator("#signed-in-as").count(), 1); // still signed in
      });

      await t.step("web server 1 back (rolling restart): it serves the same session", async () => {
        const before = w.rpcCounts();
        await w.startWeb(0);
        for (let i = 0; i < 4 && w.rpcCounts()[0] === before[0]; i++) {
          await sign(`after the restart ${i}`);
          await new Promise((res) => setTimeout(res, 600)); // HAProxy's checks see it up
        }
        assertOk(w.rpcCounts()[0] > before[0], "web server 1 served the session again");
        assertEquals(await page.getByRole("alert").textContent(), "");
      });

      await t.step("Redis down: a clear retryable 503, no hang", async () => {
        await r.kill();
        await page.getByLabel("Message", { exact: true }).fill("while Redis is down");
        const t0 = Date.now();
        await page.getByRole("button", { name: "Sign message", exact: true }).click();
        const alert = await outcome(page, /^$a/, 30_000); // only an alert ends this
        assertOk(Date.now() - t0 < 15_000, "answered promptly");
        assertEquals(
          await page.getByRole("alert").getAttribute("data-code"),
          "session_store_unavailable",
        );
        assertOk(alert && /try again/i.test(alert), String(alert));
      });

      await t.step("Redis restarted: session ended, sign in again, sign", async () => {
        await r.start(); // no persistence: empty
        let alert: string | null = null;
        for (let i = 0; i < 10; i++) {
          // Until the web servers have reconnected (backoff up to 2 s), still the 503.
          await new Promise((res) => setTimeout(res, 500));
          await page.getByLabel("Message", { exact: true }).fill("after the Redis restart");
          await page.getByRole("button", { name: "Sign message", exact: true }).click();
          alert = await outcome(page, /^$a/, 60_000);
          const code = await page.getByRole("alert").getAttribute("data-code");
          if (code !== "session_store_unavailable") break;
        }
        assertOk(alert && /sign in again/i.test(alert), String(alert));
        assertEquals(await page.getByRole("alert").getAttribute("data-code"), "session_ended");
        assertEquals(await signInInPage(page, user.identity, passphrase), null);
        await sign("after signing in again");
        assertEquals(await violations(), []);
      });
    } finally {
      await browser.close();
      await lb?.stop();
      await tier?.stop();
      await stack?.stop();
      await redis?.stop();
    }
  },
});
