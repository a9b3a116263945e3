/**
 * Online guessing (docs/rate-limits.md, docs/hostile-input.md): pass-phrase (OPAQUE
 * `login.start`) and consent-phrase guessing are throttled per address and per identity
 * with the documented limits, counted in total across TWO proxy instances (each with its
 * own vault) sharing one PostgreSQL database; an attacker hammering Alice's identity
 * cannot keep her out from her own address, and from a shared address for no longer
 * than the documented backoff; the web server limits new sessions per address.
 */
import * as opaque from "@serenity-kit/opaque";
import { ApiError } from "../../platform/mod.ts";
import { generateConsentPhrase } from "../../protocol/mod.ts";
import { createProxyClient, type ProxyClient } from "../../platform/mod.ts";
import { RATE_CLASSES } from "../../platform/mod.ts";
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { codeOf, fetchWithin } from "../fixtures/hostile.ts";
import { postgresAvailable, secondPair, startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";

async function outcome(p: Promise<unknown>): Promise<{ code: string; retryAfterMs?: number }> {
  try {
    await p;
    return { code: "ok" };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { code: e.code, retryAfterMs: e.details?.retryAfterMs as number | undefined };
  }
}

Deno.test({
  name: "guessing is throttled per address and identity across two proxies on one database",
  ignore: !(await postgresAvailable()),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({
      db: "postgres",
      web: true,
      env: { WEB_SESSION_LIMIT: "20" },
    });
    const extra = await secondPair(stack).catch(async (e) => {
      await stack.stop();
      throw e;
    });
    try {
      await opaque.ready;
      const p1 = stack.webClient();
      const p2 = createProxyClient({
        url: extra.proxyUrl,
        keyId: "web",
        secret: stack.secrets["web-proxy.key"],
      });
      const proxies: ProxyClient[] = [p1, p2];
      const admin = stack.adminClient();
      const alice = await u.makeUser("guessalice", { address: "198.51.100.10" });
      await u.apply(p1, alice);
      await u.consent(p1, alice, await u.letterPhrase(admin, "guessalice"));
      // Her usual address is known after a sign-in (through the other proxy).
      assertOk((await u.login(p2, alice)).ok);
      const start = () => opaque.client.startLogin({ password: "a guess" }).startLoginRequest;
      const requests = Array.from({ length: 200 }, start);
      const loginStart = (proxy: ProxyClient, identity: string, address: string) =>
        outcome(proxy.call("login.start", {
          identity,
          startLoginRequest: requests.pop() ?? start(),
        }, { clientAddress: address }));

      await t.step(
        "pass phrase, per identity: 60 from new addresses in total, then 429",
        async () => {
          const { limit } = RATE_CLASSES.login.perIdentity;
          const codes: string[] = [];
          // A distributed guesser: 3 attempts per address (below the backoff), both proxies.
          for (let i = 0; i < limit + 1; i++) {
            const addr = `203.0.113.${Math.floor(i / 3) + 1}`;
            codes.push((await loginStart(proxies[i % 2], "guessalice", addr)).code);
          }
          assertEquals(codes.slice(0, limit).filter((c) => c !== "ok"), []);
          // Past the window a sign-in is refused unless it carries a proof of work
          // (tests/integration/lockout_test.ts: the owner on a new browser pays it).
          assertEquals(codes[limit], "pow_required");
          // Through either proxy, from yet another new address: still refused.
          assertEquals((await loginStart(p2, "guessalice", "203.0.113.200")).code, "pow_required");
          assertEquals((await loginStart(p1, "guessalice", "203.0.113.201")).code, "pow_required");
        },
      );

      await t.step("…while Alice from her own address signs in through either proxy", async () => {
        assertOk((await u.login(p1, alice)).ok);
        assertOk((await u.login(p2, alice)).ok);
      });

      await t.step(
        "pass phrase, per address: 120 a minute in total across both proxies",
        async () => {
          const { limit } = RATE_CLASSES.login.perAddress;
          const codes: string[] = [];
          for (let i = 0; i < limit + 1; i++) {
            // A new identity each time: neither the identity window nor the backoff moves.
            codes.push((await loginStart(proxies[i % 2], `nobody${i}`, "192.0.2.66")).code);
          }
          assertEquals(codes.slice(0, limit).filter((c) => c !== "ok"), []);
          assertEquals(codes[limit], "rate_limited");
        },
      );

      await t.step("pass phrase, backoff: a shared address waits at most the backoff", async () => {
        const bob = await u.makeUser("guessbob", { address: "198.51.100.20" });
        await u.apply(p2, bob);
        await u.consent(p2, bob, await u.letterPhrase(admin, "guessbob"));
        const nat = "192.0.2.77"; // Mallory and, later, Bob share it
        const { free, baseMs, capMs } = RATE_CLASSES.login.backoff;
        const codes: string[] = [];
        for (let i = 0; i < free + 1; i++) {
          codes.push((await loginStart(proxies[i % 2], "guessbob", nat)).code);
        }
        assertEquals(codes.slice(0, free).filter((c) => c !== "ok"), []);
        assertEquals(codes[free], "backoff");
        // Hammering during the wait is refused and does not extend it.
        const waits: number[] = [];
        for (let i = 0; i < 10; i++) {
          const r = await loginStart(proxies[i % 2], "guessbob", nat);
          assertEquals(r.code, "backoff");
          waits.push(r.retryAfterMs!);
        }
        assertOk(waits.every((w) => w > 0 && w <= baseMs), waits.join());
        for (let i = 1; i < waits.length; i++) assertOk(waits[i] <= waits[i - 1], waits.join());
        assertOk(baseMs <= capMs);
        // Bob from his own address is not affected at all.
        assertOk((await u.login(p1, bob)).ok);
        // Bob behind the shared address: after the announced wait he signs in, which
        // clears the backoff for that address.
        await new Promise((r) => setTimeout(r, waits[waits.length - 1] + 50));
        assertOk((await u.login(p2, { ...bob, address: nat })).ok);
        assertEquals((await loginStart(p1, "guessbob", nat)).code, "ok");
      });

      await t.step("consent phrase, per identity: 20 from new addresses in total", async () => {
        const { limit } = RATE_CLASSES.consent.perIdentity;
        const phrase = generateConsentPhrase().text;
        const codes: string[] = [];
        // An identity nobody applied for: only the limits answer differently.
        for (let i = 0; i < limit + 1; i++) {
          codes.push(
            (await outcome(proxies[i % 2].call("consent", {
              registration: { ...alice.registration, identity: "guesscarol" },
              phrase,
            }, { clientAddress: `203.0.113.${100 + Math.floor(i / 2)}` }))).code,
          );
        }
        assertEquals(codes.slice(0, limit).filter((c) => c !== "unknown_identity"), []);
        assertEquals(codes[limit], "rate_limited");
      });

      await t.step("consent phrase, per address and backoff, across both proxies", async () => {
        const dave = await u.makeUser("guessdave", { address: "198.51.100.30" });
        await u.apply(p1, dave);
        const { free } = RATE_CLASSES.consent.backoff;
        const codes: string[] = [];
        for (let i = 0; i < free + 1; i++) {
          codes.push(
            (await outcome(proxies[i % 2].call("consent", {
              registration: dave.registration,
              phrase: generateConsentPhrase().text,
            }, { clientAddress: "192.0.2.88" }))).code,
          );
        }
        assertEquals(codes.slice(0, free).filter((c) => c !== "wrong_phrase"), []);
        assertEquals(codes[free], "backoff");
        // Per address: 20 a minute in total (other identities, so no backoff applies).
        const { limit } = RATE_CLASSES.consent.perAddress;
        const more: string[] = [];
        for (let i = 0; more.length < limit - free; i++) {
          more.push(
            (await outcome(proxies[i % 2].call("consent", {
              registration: { ...dave.registration, identity: `nobody${i}` },
              phrase: generateConsentPhrase().text,
            }, { clientAddress: "192.0.2.88" }))).code,
          );
        }
        assertEquals(more.slice(0, -1).filter((c) => c !== "unknown_identity"), []);
        assertEquals(more[more.length - 1], "rate_limited");
        // Dave from his own address still gets in with the right phrase.
        const r = await u.consent(p2, dave, await u.letterPhrase(admin, "guessdave"));
        assertEquals(r.status, "active");
      });

      await t.step(
        "the web server: 20 new sessions a minute per address; a wrong KS ends its session",
        async () => {
          // The first session gets a KS that does not decrypt: the session is gone, so each
          // RSA decryption costs the caller a new session.
          const offer = JSON.parse((await fetchWithin(`${stack.webUrl}/api/session`)).body);
          const badKey = {
            sid: offer.sid,
            key: btoa("x".repeat(256)).replaceAll("+", "-").replaceAll("/", "_").replaceAll(
              "=",
              "",
            ),
          };
          const post = () =>
            fetchWithin(`${stack.webUrl}/api/session/key`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(badKey),
            });
          assertEquals(codeOf((await post()).body), "bad_session_key");
          assertEquals(codeOf((await post()).body), "unknown_session");
          const codes: string[] = [];
          for (let i = 0; i < 22; i++) {
            const r = await fetchWithin(`${stack.webUrl}/api/session`);
            codes.push(r.status === 200 ? "ok" : codeOf(r.body) ?? String(r.status));
          }
          assertEquals(codes.slice(0, 19).filter((c) => c !== "ok"), []);
          assertEquals(codes.slice(19), ["rate_limited", "rate_limited", "rate_limited"]);
          const r = await fetchWithin(`${stack.webUrl}/api/session`);
          const wait = JSON.parse(r.body).error.retryAfterMs;
          assertOk(wait > 0 && wait <= 60_000, String(wait));
        },
      );
    } finally {
      await Promise.all(extra.children.map((c) => c.stop()));
      await stack.stop();
    }
  },
});
