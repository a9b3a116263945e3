/**
 * A refused request never breaks the session (issue 16, docs/session-channel.md
 * "Sequence numbers after a refusal"): on one signed-in session, requests the web server
 * refuses before opening them (too large, malformed envelope) and after opening them
 * (schema errors, operation errors) are each followed by a normal signature, which must
 * go through at once; sealed requests sent again are still refused.
 */
import { assert, assertEquals, assertOk } from "../fixtures/assert.ts";
import { LIGHT_KSF, startStack } from "../../harness/mod.ts";
import { activeUserFromDeno, anchorsOf, ready } from "../e2e/_deno_client.ts";
import {
  FlowError,
  forget,
  RpcError,
  Session,
  signAndSubmit,
  signIn,
  wasmSessionCrypto,
} from "../../applet/mod.ts";
import { b64uEncode, MESSAGE_MAX_BYTES, utf8 } from "../../protocol/mod.ts";

/** The POSTs a session made to `/api/rpc`, and a hook that rewrites the next one on the wire. */
function wire() {
  const sent: string[] = [];
  let rewriteNext: ((body: string) => string) | null = null;
  const f = ((input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).endsWith("/api/rpc") && typeof init?.body === "string") {
      let body = init.body;
      if (rewriteNext) [body, rewriteNext] = [rewriteNext(body), null];
      sent.push(body);
      init = { ...init, body };
    }
    return fetch(input, init);
  }) as typeof fetch;
  return { f, sent, rewrite: (fn: (body: string) => string) => (rewriteNext = fn) };
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(() => null, (e) => e);
  assertOk(err instanceof RpcError || err instanceof FlowError, `expected a refusal, got ${err}`);
  return { code: err.code, message: err.message };
}

/** Raw text of a zod issue ("Too big: expected string to have <=87382 characters"). */
const _SCHEMA_TEXT =
  /Too (big|small)|Invalid (input|string|option)|Unrecognized key|expected (string|number|object|array|record)|<=|>=/;

Deno.test({
  name: "[slow] a refused request never breaks the session; replays are still refused",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ready();
    const stack = await startStack({ web: true });
    const web = stack.webUrl!;
    try {
      const { id, pass } = await activeUserFromDeno(stack, "chan");
      const w = wire();
      const s = await Session.open({
        baseUrl: web,
        crypto: wasmSessionCrypto,
        anchors: await anchorsOf(web),
        fetch: w.f,
      });
      const user = await signIn(s, { identity: id, passphrase: utf8(pass), ksfFloor: LIGHT_KSF });
      let n = 0;
      /** A normal signature right after: one POST, verified by the server. */
      const signsAtOnce = async (what: string) => {
        const before = w.sent.length;
        const r = await signAndSubmit(s, user, utf8(`normal message ${++n} after ${what}`));
        assertEquals([what, r.verified], [what, true]);
        assertEquals([what, w.sent.length - before], [what, 1]);
      };

      await t.step("a 300 KB message is refused in the client: nothing is sent", async () => {
        const before = w.sent.length;
        const e = await refusal(signAndSubmit(s, user, utf8("x".repeat(300 * 1024))));
        assertEquals(e.code, "message_too_long");
        assertEquals(w.sent.length, before);
        await signsAtOnce("a 300 KB message");
      });

      await t.step(
        "a message one byte over the limit is refused; at the limit it signs",
        async () => {
          const over = await refusal(signAndSubmit(s, user, new Uint8Array(MESSAGE_MAX_BYTES + 1)));
          assertEquals(over.code, "message_too_long");
          const r = await signAndSubmit(s, user, new Uint8Array(MESSAGE_MAX_BYTES).fill(0x61));
          assertEquals(r.verified, true);
        },
      );

      let padded = "";
      await t.step("a body made too large on the wire: 413, then the session goes on", async () => {
        w.rewrite((body) => (padded = body.replace(/}$/, `${" ".repeat(300 * 1024)}}`)));
        const e = await refusal(signAndSubmit(s, user, utf8("padded on the way")));
        assertEquals(e.code, "body_too_large");
        await signsAtOnce("a 413");
      });

      await t.step(
        "a malformed envelope: refused before opening, then the session goes on",
        async () => {
          w.rewrite((body) => body.replace(/"iv":"[^"]*"/, '"iv":"!!"'));
          const e = await refusal(signAndSubmit(s, user, utf8("bad iv on the way")));
          assertEquals(e.code, "bad_request");
          assert(!_SCHEMA_TEXT.test(e.message), `schema text reached the user: ${e.message}`);
          await signsAtOnce("a malformed envelope");
        },
      );

      await t.step("100,000 characters sent anyway: message_too_long in plain words", async () => {
        const e = await refusal(
          s.call("message.submit", {
            message: b64uEncode(utf8("y".repeat(100_000))),
            signature: b64uEncode(new Uint8Array(256)),
          }),
        );
        assertEquals(e.code, "message_too_long");
        assert(!_SCHEMA_TEXT.test(e.message), `schema text reached the user: ${e.message}`);
        assert(/message/i.test(e.message) && /64 KiB|65,536/.test(e.message), e.message);
        await signsAtOnce("a schema error");
      });

      await t.step("operation refusals after opening: the session goes on", async () => {
        const cases: [string, Record<string, unknown>, string][] = [
          ["reauth.finish", { loginId: "x", finishLoginRequest: "AAAA" }, "no_pending_login"],
          ["admin.users", {}, "unknown_op"],
          ["consent", { phrase: 5 }, "bad_request"],
          ["message.submit", { message: "AAAA", signature: "AAAA" }, "invalid_signature"],
          [
            "revoke",
            { identity: "someone-else", nonce: "AAAA", signature: "AAAA" },
            "wrong_identity",
          ],
        ];
        for (const [op, args, code] of cases) {
          const e = await refusal(s.call(op, args));
          assertEquals([op, e.code], [op, code]);
          assert(
            !_SCHEMA_TEXT.test(e.message),
            `${op}: schema text reached the user: ${e.message}`,
          );
          await signsAtOnce(op);
        }
      });

      await t.step("a sealed request sent again is refused as a replay", async () => {
        const post = (body: string) =>
          fetch(`${web}/api/rpc`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          }).then(async (r) => [r.status, (await r.json()).error?.code]);
        assertEquals(await post(w.sent.at(-1)!), [409, "replayed_request"]);
        // The padded request, unpadded: its number went to the next request.
        assertEquals(await post(padded.replace(/\s+}$/, "}")), [409, "replayed_request"]);
        await signsAtOnce("replays");
      });
      forget(user);
      await s.close();
    } finally {
      await stack.stop();
    }
  },
});
