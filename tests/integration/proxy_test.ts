/**
 * The proxy as a real process in front of a real vault: every class of bad request is
 * refused with its own stable code, rate limits and backoff hold, every decision is
 * logged without secrets.
 */
import { b64uDecode } from "../../protocol/mod.ts";
import { ApiError } from "../../platform/mod.ts";
import { HEADER, importHmacKey, signRequest } from "../../platform/mod.ts";
import { generateConsentPhrase } from "../../protocol/mod.ts";
import { createProxyClient } from "../../platform/mod.ts";
import { startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";
import { assert } from "../fixtures/assert.ts";

Deno.test("proxy refuses each bad request class with its code", async (t) => {
  const stack = await startStack({ web: true });
  try {
    const webKey = await importHmacKey(b64uDecode(stack.secrets["web-proxy.key"]));
    const send = async (
      op: string,
      bodyText: string,
      opts: {
        sign?: boolean;
        ts?: number;
        nonce?: string;
        keyId?: string;
        method?: string;
        contentType?: string;
        tamper?: boolean;
      } = {},
    ) => {
      const body = new TextEncoder().encode(bodyText);
      const path = `/v1/${op}`;
      const headers: Record<string, string> = opts.sign === false ? {} : await signRequest({
        key: webKey,
        keyId: opts.keyId ?? "web",
        method: "POST",
        path,
        body,
        client: "192.0.2.10",
        ts: opts.ts,
        nonce: opts.nonce,
      });
      if (opts.tamper) headers[HEADER.client] = "192.0.2.11";
      const res = await fetch(`${stack.proxyUrl}${path}`, {
        method: opts.method ?? "POST",
        headers: { ...headers, "content-type": opts.contentType ?? "application/json" },
        body: opts.method === "GET" ? undefined : body,
      });
      const json = await res.json();
      return { status: res.status, code: json.error?.code as string | undefined, json };
    };
    const expect = async (p: ReturnType<typeof send>, status: number, code?: string) => {
      const r = await p;
      assert(
        r.status === status && r.code === code,
        `expected ${status} ${code}, got ${r.status} ${r.code}`,
      );
    };

    await t.step("the fixture also runs the web server entry when asked", async () => {
      const res = await fetch(`${stack.webUrl}/healthz`);
      assert(res.ok && (await res.json()).ok === true);
    });
    await t.step("a well-formed request passes", () => expect(send("ca.get", "{}"), 200));
    await t.step(
      "unsigned → 401 unsigned",
      () => expect(send("ca.get", "{}", { sign: false }), 401, "unsigned"),
    );
    await t.step(
      "wrong signature → 401 bad_signature",
      () => expect(send("ca.get", "{}", { tamper: true }), 401, "bad_signature"),
    );
    await t.step(
      "stale timestamp → 401 stale_request",
      () => expect(send("ca.get", "{}", { ts: Date.now() - 31_000 }), 401, "stale_request"),
    );
    await t.step(
      "future timestamp → 401 stale_request",
      () => expect(send("ca.get", "{}", { ts: Date.now() + 31_000 }), 401, "stale_request"),
    );
    await t.step("replayed nonce → 401 replayed_nonce", async () => {
      const nonce = "AAAAAAAAAAAAAAAAAAAAAA";
      await expect(send("ca.get", "{}", { nonce }), 200);
      await expect(send("ca.get", "{}", { nonce }), 401, "replayed_nonce");
    });
    await t.step(
      "unknown key → 401 unknown_key",
      () => expect(send("ca.get", "{}", { keyId: "intruder" }), 401, "unknown_key"),
    );
    await t.step(
      "the vault's own key id is not a caller",
      () => expect(send("ca.get", "{}", { keyId: "proxy" }), 401, "unknown_key"),
    );
    await t.step(
      "off the allow-list → 404 op_not_allowed",
      () => expect(send("sql.exec", "{}"), 404, "op_not_allowed"),
    );
    await t.step(
      "web calling an operator op → 403 op_forbidden",
      () => expect(send("admin.letters", "{}"), 403, "op_forbidden"),
    );
    await t.step("operator calling a web op → 403 op_forbidden", async () => {
      const admin = stack.adminClient();
      try {
        await admin.call("login.start", { identity: "alice", startLoginRequest: "A".repeat(128) });
        throw new Error("allowed");
      } catch (e) {
        assert(e instanceof ApiError && e.code === "op_forbidden", String(e));
      }
    });
    await t.step(
      "body over the op's limit → 413 body_too_large",
      () =>
        expect(send("ca.get", JSON.stringify({ pad: "x".repeat(4096) })), 413, "body_too_large"),
    );
    await t.step(
      "a chunked body (no Content-Length) over the limit → 413 body_too_large",
      async () => {
        const bytes = new TextEncoder().encode(JSON.stringify({ pad: "x".repeat(8192) }));
        const headers = await signRequest({
          key: webKey,
          keyId: "web",
          method: "POST",
          path: "/v1/ca.get",
          body: bytes,
        });
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < bytes.length; i += 1024) {
              controller.enqueue(bytes.slice(i, i + 1024));
            }
            controller.close();
          },
        });
        const res = await fetch(`${stack.proxyUrl}/v1/ca.get`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: stream,
        });
        const json = await res.json();
        assert(res.status === 413 && json.error.code === "body_too_large", JSON.stringify(json));
      },
    );
    await t.step("not JSON → 400 bad_json", () => expect(send("ca.get", "{nope"), 400, "bad_json"));
    await t.step(
      "unknown field → 400 invalid_request",
      () => expect(send("ca.get", '{"x":1}'), 400, "invalid_request"),
    );
    await t.step(
      "wrong type → 400 invalid_request",
      () => expect(send("directory.get", '{"identity":42}'), 400, "invalid_request"),
    );
    await t.step(
      "bad identity → 400 invalid_request",
      () => expect(send("directory.get", '{"identity":"../etc"}'), 400, "invalid_request"),
    );
    await t.step(
      "mistyped consent phrase → 400 phrase_typo (never reaches the vault)",
      async () => {
        const phrase = generateConsentPhrase().text;
        const typo = (phrase[0] === "A" ? "B" : "A") + phrase.slice(1);
        const r = await send(
          "consent",
          JSON.stringify({
            registration: { identity: "alice", fullName: "A", accountNumber: "1", address: "x" },
            phrase: typo,
          }),
        );
        assert(
          r.status === 400 && r.code === "phrase_typo" && r.json.error.group === 1,
          JSON.stringify(r.json),
        );
      },
    );
    await t.step(
      "wrong content type → 415",
      () =>
        expect(send("ca.get", "{}", { contentType: "text/plain" }), 415, "unsupported_media_type"),
    );
    await t.step(
      "GET → 405",
      () => expect(send("ca.get", "{}", { method: "GET" }), 405, "method_not_allowed"),
    );

    await t.step(
      "per-address limit: the 21st consent from one address in a minute → 429",
      async () => {
        const web = stack.webClient();
        const phrase = generateConsentPhrase().text;
        const codes: string[] = [];
        for (let i = 0; i < 21; i++) {
          try {
            await web.call("consent", {
              registration: {
                identity: `nobody${i}`,
                fullName: "N",
                accountNumber: "1",
                address: "x",
              },
              phrase,
            }, { clientAddress: "203.0.113.5" });
          } catch (e) {
            codes.push((e as ApiError).code);
          }
        }
        assert(codes.slice(0, 20).every((c) => c === "unknown_identity"), codes.join());
        assert(codes[20] === "rate_limited", codes.join());
      },
    );

    await t.step(
      "backoff blocks one address guessing one identity, not its owner elsewhere",
      async () => {
        const web = stack.webClient();
        // Built before the attempts: under CPU load, making a user between attempts could
        // outlast the 1 s backoff and let an attempt through.
        const victim = await u.makeUser("victim");
        const requests: string[] = [];
        for (let i = 0; i < 8; i++) {
          requests.push((await u.loginStartRequest(victim)).startLoginRequest);
        }
        const start = async (address: string) => {
          try {
            await web.call("login.start", {
              identity: "victim",
              startLoginRequest: requests.pop()!,
            }, { clientAddress: address });
            return "ok";
          } catch (e) {
            return (e as ApiError).code;
          }
        };
        const codes = [];
        for (let i = 0; i < 7; i++) codes.push(await start("203.0.113.99"));
        assert(
          codes.slice(0, 5).every((c) => c === "ok") && codes[5] === "backoff" &&
            codes[6] === "backoff",
          codes.join(),
        );
        assert((await start("198.51.100.77")) === "ok");
      },
    );

    await t.step("a client with another caller's secret → 401 bad_signature", async () => {
      const wrong = createProxyClient({
        url: stack.proxyUrl,
        keyId: "web",
        secret: stack.secrets["admin-proxy.key"],
      });
      try {
        await wrong.call("ca.get", {});
        throw new Error("accepted");
      } catch (e) {
        assert(e instanceof ApiError && e.code === "bad_signature", String(e));
      }
    });

    await t.step("one JSON decision line per request, no secret", () => {
      const decisions = stack.proxy.lines.filter((l) => l.includes('"event":"decision"')).map((l) =>
        JSON.parse(l)
      );
      assert(decisions.length >= 25, `${decisions.length} decisions`);
      assert(decisions.some((d) => d.decision === "deny" && d.code === "bad_signature"));
      assert(
        decisions.some((d) =>
          d.decision === "allow" && d.op === "ca.get" && typeof d.ms === "number"
        ),
      );
      const text = stack.proxy.lines.join("\n");
      for (const s of Object.values(stack.secrets)) assert(!text.includes(s));
      assert(!text.includes("victim"), "identities are logged as tags only");
    });
  } finally {
    await stack.stop();
  }
});

Deno.test("proxy answers 503 vault_unavailable while the vault is down, and recovers", async () => {
  const stack = await startStack();
  try {
    const web = stack.webClient();
    await web.call("ca.get", {});
    await stack.stopVault(true);
    try {
      await web.call("ca.get", {});
      throw new Error("answered without a vault");
    } catch (e) {
      assert(
        e instanceof ApiError && e.status === 503 && e.code === "vault_unavailable",
        String(e),
      );
    }
    await stack.startVault();
    const r = await web.call("ca.get", {}) as { certificate: string };
    assert(r.certificate.includes("BEGIN CERTIFICATE"));
  } finally {
    await stack.stop();
  }
});
