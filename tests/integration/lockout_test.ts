/**
 * Nobody can lock a roaming user out (docs/rate-limits.md, "Past the per-identity
 * window"): Mallory floods Alice's public identity from many new addresses through two
 * proxies on one database, well past the per-identity window, and keeps at it; Alice,
 * on a fresh browser at an address she never used, still signs in. Past the window a
 * `login.start` costs a proof of work instead of being refused, so Mallory's own
 * guessing stays limited: without work nothing gets through, and one address that pays
 * for every guess still meets the per-(identity, address) backoff.
 */
import * as opaque from "@serenity-kit/opaque";
import { ApiError } from "../../platform/mod.ts";
import { createProxyClient, type ProxyClient } from "../../platform/mod.ts";
import { RATE_CLASSES } from "../../platform/mod.ts";
import { powChallengeOf, solvePow } from "../../applet/mod.ts";
import { initWasmCrypto } from "../../wasm-crypto/mod.ts";
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { postgresAvailable, secondPair, startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";

type Outcome = { code: string; details?: Record<string, unknown>; result?: unknown };

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { code: "ok", result: await p };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { code: e.code, details: e.details };
  }
}

/** login.start as the applet sends it: on `pow_required`, solve and send it again. */
async function loginStartWithWork(
  proxy: ProxyClient,
  identity: string,
  startLoginRequest: string,
  address: string,
): Promise<Outcome & { solved: boolean }> {
  const call = (extra: Record<string, unknown>) =>
    outcome(proxy.call("login.start", { identity, startLoginRequest, ...extra }, {
      clientAddress: address,
    }));
  const first = await call({});
  if (first.code !== "pow_required") return { ...first, solved: false };
  const challenge = powChallengeOf(first.details);
  const solution = solvePow(challenge);
  return { ...await call({ pow: { challenge: challenge.challenge, solution } }), solved: true };
}

Deno.test({
  name: "a flood of sign-in attempts on an identity does not keep its owner out of a new browser",
  ignore: !(await postgresAvailable()),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const stack = await startStack({ db: "postgres" });
    const extra = await secondPair(stack).catch(async (e) => {
      await stack.stop();
      throw e;
    });
    try {
      await opaque.ready;
      await initWasmCrypto();
      const p1 = stack.webClient();
      const p2 = createProxyClient({
        url: extra.proxyUrl,
        keyId: "web",
        secret: stack.secrets["web-proxy.key"],
      });
      const proxies = [p1, p2];
      const admin = stack.adminClient();
      const alice = await u.makeUser("lockalice", { address: "198.51.100.50" });
      await u.apply(p1, alice);
      await u.consent(p1, alice, await u.letterPhrase(admin, "lockalice"));
      const guess = () => opaque.client.startLogin({ password: "a guess" }).startLoginRequest;
      const { limit } = RATE_CLASSES.login.perIdentity;

      await t.step(
        "Mallory saturates the identity window; past it nothing comes free",
        async () => {
          const codes: string[] = [];
          const bits: number[] = [];
          // Three attempts per address (below the backoff), both proxies, twice the window.
          for (let i = 0; i < 2 * limit; i++) {
            const addr = `203.0.113.${Math.floor(i / 3) + 1}`;
            const o = await outcome(proxies[i % 2].call("login.start", {
              identity: "lockalice",
              startLoginRequest: guess(),
            }, { clientAddress: addr }));
            codes.push(o.code);
            if (o.code === "pow_required") bits.push(powChallengeOf(o.details).bits);
          }
          assertEquals(codes.slice(0, limit).filter((c) => c !== "ok"), []);
          // Not one more free guess: each one past the window is answered with work to do.
          assertEquals(codes.slice(limit).filter((c) => c !== "pow_required"), []);
          // …and the work grows with the excess (14 bits, one more per 30 attempts).
          assertOk(bits[0] < bits[bits.length - 1], bits.join());
        },
      );

      await t.step("Alice on a fresh browser at a new address signs in anyway", async () => {
        const fresh = "192.0.2.150";
        const start = opaque.client.startLogin({ password: alice.password });
        const started = await loginStartWithWork(
          proxies[1],
          "lockalice",
          start.startLoginRequest,
          fresh,
        );
        assertEquals(started.code, "ok", JSON.stringify(started.details));
        assertOk(started.solved, "past the window she did the work");
        const r = started.result as {
          loginId: string;
          loginResponse: string;
          ksf: { params: typeof alice.ksf };
        };
        const finish = opaque.client.finishLogin({
          clientLoginState: start.clientLoginState,
          loginResponse: r.loginResponse,
          password: alice.password,
          keyStretching: { "argon2id-custom": { ...r.ksf.params } },
        });
        assertOk(finish, "right pass phrase");
        const released = await p1.call("login.finish", {
          loginId: r.loginId,
          finishLoginRequest: finish.finishLoginRequest,
        }, { clientAddress: fresh }) as { registration: { identity: string } };
        assertEquals(released.registration.identity, "lockalice");
      });

      await t.step(
        "Mallory paying for every guess from one address still meets the backoff",
        async () => {
          const { free } = RATE_CLASSES.login.backoff;
          const codes: string[] = [];
          for (let i = 0; i < free + 1; i++) {
            codes.push(
              (await loginStartWithWork(proxies[i % 2], "lockalice", guess(), "192.0.2.99")).code,
            );
          }
          assertEquals(codes.slice(0, free).filter((c) => c !== "ok"), []);
          assertEquals(codes[free], "backoff");
        },
      );

      await t.step("a challenge is single use and bound to its identity and address", async () => {
        const first = await outcome(p1.call("login.start", {
          identity: "lockalice",
          startLoginRequest: guess(),
        }, { clientAddress: "192.0.2.160" }));
        assertEquals(first.code, "pow_required");
        const challenge = powChallengeOf(first.details);
        const pow = { challenge: challenge.challenge, solution: solvePow(challenge) };
        const send = (address: string) =>
          outcome(p2.call("login.start", {
            identity: "lockalice",
            startLoginRequest: guess(),
            pow,
          }, { clientAddress: address }));
        assertEquals((await send("192.0.2.161")).code, "pow_required"); // another address
        assertEquals((await send("192.0.2.160")).code, "ok");
        assertEquals((await send("192.0.2.160")).code, "pow_required"); // used
      });
    } finally {
      await Promise.all(extra.children.map((c) => c.stop()));
      await stack.stop();
    }
  },
});
