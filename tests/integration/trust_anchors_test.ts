/**
 * A hostile web server learns nothing (docs/trust-anchors.md, issue 14): the attacks of
 * the security review, each run against the applet's own protocol code in Deno. The web
 * server here is the real one (`createApp`, with the real confidentiality key certified
 * by the real CA) whose vault caller an attacker replaced; the vault and the proxy are
 * real (PGlite). Before the trust anchors, each attack below succeeded (the outcome is
 * in docs/trust-anchors.md, "Before and after").
 */
import * as opaque from "@serenity-kit/opaque";
import { assertEquals, assertOk, assertRejects } from "../fixtures/assert.ts";
import { type Stack, startStack } from "../../harness/mod.ts";
import { LIGHT_KSF } from "../../harness/mod.ts";
import { newPassphrase, newUser } from "../e2e/_applet.ts";
import { ready } from "../e2e/_deno_client.ts";
import {
  applyToRegister,
  checkHostKeys,
  FlowError,
  signIn,
  wasmSessionCrypto,
} from "../../applet/mod.ts";
import { RpcError, Session } from "../../applet/mod.ts";
import { utf8 } from "../../protocol/mod.ts";
import { b64uDecode, b64uEncode } from "../../protocol/mod.ts";
import { deriveKek, openKeyRecord, parseKeyRecord } from "../../protocol/mod.ts";
import type { Anchors } from "../../protocol/mod.ts";
import { ApiError } from "../../platform/mod.ts";
import { createApp, type VaultCaller } from "../../server/mod.ts";
import { loadConfidentialityKey, provisionConfidentialityKey } from "../../platform/mod.ts";
import { MemorySessionStore } from "../../server/mod.ts";
import { loadHostKeys } from "../../examples/host-bank/mod.ts";
import { makeTestCa, oaepSpki } from "../fixtures/test_ca.ts";

/** What the hostile web server saw and did. */
interface Relay {
  url: string;
  ops: string[];
  captured: Record<string, Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * The real web server app with an attacker's vault caller: `intercept` may answer an
 * operation itself (return a value) or let it through to the real vault (undefined).
 */
async function hostileWebServer(
  stack: Stack,
  intercept: (op: string, body: Record<string, unknown>) => unknown,
): Promise<Relay> {
  await provisionConfidentialityKey(stack.dataDir, stack.proxyUrl);
  const confidentiality = await loadConfidentialityKey(stack.dataDir, () => {
    throw new Error("provisioned above");
  });
  const web = stack.webClient();
  const relay: Relay = { url: "", ops: [], captured: {}, close: () => Promise.resolve() };
  const vault: VaultCaller = {
    async call(op, body, clientAddress) {
      if (op !== "ca.get") relay.ops.push(op); // the session offer's CA certificate
      relay.captured[op] = body;
      const mine = await intercept(op, body);
      if (mine !== undefined) return mine as Record<string, unknown>;
      return await web.call(op, body, { clientAddress }) as Record<string, unknown>;
    },
  };
  const app = createApp({
    vault,
    sessions: new MemorySessionStore(),
    confidentiality,
    distDir: ".",
  });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
  relay.url = `http://127.0.0.1:${server.addr.port}`;
  relay.close = () => server.shutdown();
  return relay;
}

function open(relay: Relay, anchors: Anchors): Promise<Session> {
  return Session.open({ baseUrl: relay.url, crypto: wasmSessionCrypto, anchors });
}

/**
 * The attack's pay-off: with the registration record of an OPAQUE setup it controls,
 * the relay tests a guess offline and, when it is right, opens the key record.
 */
async function offlineGuess(
  setup: string,
  identity: string,
  captured: Record<string, unknown>,
  guess: string,
): Promise<Uint8Array | null> {
  const c = opaque.client.startLogin({ password: guess });
  const s = opaque.server.startLogin({
    serverSetup: setup,
    userIdentifier: identity,
    registrationRecord: captured.registrationRecord as string,
    startLoginRequest: c.startLoginRequest,
  });
  const f = opaque.client.finishLogin({
    clientLoginState: c.clientLoginState,
    loginResponse: s.loginResponse,
    password: guess,
    keyStretching: { "argon2id-custom": LIGHT_KSF },
  });
  if (!f) return null;
  const kek = await deriveKek(b64uDecode(f.exportKey.replace(/=+$/, "")));
  const record = parseKeyRecord(captured.keyRecord, LIGHT_KSF);
  const registration = captured.registration as Parameters<typeof openKeyRecord>[2];
  return await openKeyRecord(kek, record, registration);
}

Deno.test({
  name: "[slow] trust anchors: a hostile web server or front box gets nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ready();
    const stack = await startStack();
    const anchors = await stack.anchors();
    try {
      await t.step(
        "a relay answering register.start with its own OPAQUE setup is refused before anything allows a guess",
        async () => {
          const setup = opaque.server.createSetup();
          const relay = await hostileWebServer(stack, (op, body) => {
            if (op !== "register.start") return undefined;
            return opaque.server.createRegistrationResponse({
              serverSetup: setup,
              userIdentifier: body.identity as string,
              registrationRequest: body.registrationRequest as string,
            });
          });
          const user = newUser("hij");
          const pass = newPassphrase();
          try {
            const s = await open(relay, anchors);
            const attempt = applyToRegister(s, {
              registration: user,
              passphrase: utf8(pass),
              bits: 2048,
              ksfFloor: LIGHT_KSF,
            }).then(() => null, (e) => e);
            const err = await attempt;
            if (err === null) {
              const sku = await offlineGuess(setup, user.identity, relay.captured.apply, pass);
              throw new Error(`attack succeeded: the relay recovered SKu (${sku?.length} bytes)`);
            }
            assertOk(err instanceof FlowError && err.code === "untrusted_vault", String(err));
            assertEquals(relay.ops, ["register.start"], "nothing after the forged answer");
            await assertRejects(
              () =>
                stack.webClient().call("application.get", { identity: user.identity }, {
                  clientAddress: "198.51.100.1",
                }),
              ApiError,
              "unknown_identity",
            );
          } finally {
            await relay.close();
          }
        },
      );

      await t.step(
        "a relay that forwards register.start but forges the vault's signature binding is refused",
        async () => {
          // The real vault's answer for another binding: a replay into this session.
          const relay = await hostileWebServer(stack, (op, body) => {
            if (op === "register.start") body.binding = "A".repeat(43);
            return undefined;
          });
          try {
            const s = await open(relay, anchors);
            await assertRejects(
              () =>
                applyToRegister(s, {
                  registration: newUser("bnd"),
                  passphrase: utf8(newPassphrase()),
                  bits: 2048,
                  ksfFloor: LIGHT_KSF,
                }),
              FlowError,
              "untrusted_vault",
            );
            assertEquals(relay.ops, ["register.start"]);
          } finally {
            await relay.close();
          }
        },
      );

      await t.step(
        "a relay that changes the vault's stretching parameters in register.start is refused",
        async () => {
          // Not below the floor this client accepts, so only the vault's signature stops it.
          const other = { memory: 2048, iterations: 1, parallelism: 1 };
          const relay = await hostileWebServer(stack, async (op, body) => {
            if (op !== "register.start") return undefined;
            const real = await stack.webClient().call(op, body, {
              clientAddress: "198.51.100.1",
            }) as Record<string, unknown>;
            return { ...real, ksf: other };
          });
          try {
            const s = await open(relay, anchors);
            await assertRejects(
              () =>
                applyToRegister(s, {
                  registration: newUser("ksf"),
                  passphrase: utf8(newPassphrase()),
                  bits: 2048,
                  ksfFloor: LIGHT_KSF,
                }),
              FlowError,
              "untrusted_vault",
            );
            assertEquals(relay.ops, ["register.start"], "nothing stretched with them was sent");
          } finally {
            await relay.close();
          }
        },
      );

      await t.step(
        "a relay answering login.start from its own setup, even with the right pass phrase, gets no login.finish",
        async () => {
          const setup = opaque.server.createSetup();
          const identity = newUser("lgn").identity;
          const pass = newPassphrase();
          // Worst case: the relay registered the user's real pass phrase under its setup.
          const rc = opaque.client.startRegistration({ password: pass });
          const rr = opaque.server.createRegistrationResponse({
            serverSetup: setup,
            userIdentifier: identity,
            registrationRequest: rc.registrationRequest,
          });
          const record = opaque.client.finishRegistration({
            clientRegistrationState: rc.clientRegistrationState,
            registrationResponse: rr.registrationResponse,
            password: pass,
            keyStretching: { "argon2id-custom": LIGHT_KSF },
          }).registrationRecord;
          const relay = await hostileWebServer(stack, (op, body) => {
            if (op === "login.start") {
              const s = opaque.server.startLogin({
                serverSetup: setup,
                userIdentifier: identity,
                registrationRecord: record,
                startLoginRequest: body.startLoginRequest as string,
              });
              return {
                loginId: "relay",
                loginResponse: s.loginResponse,
                ksf: { name: "opaque-export-key", ksf: "argon2id", params: LIGHT_KSF },
              };
            }
            if (op === "login.finish") return { keyRecord: {}, registration: {}, certificate: "" };
            return undefined;
          });
          try {
            const s = await open(relay, anchors);
            const err = await signIn(s, {
              identity,
              passphrase: utf8(pass),
              ksfFloor: LIGHT_KSF,
            }).then(() => null, (e) => e);
            assertOk(err instanceof FlowError && err.code === "untrusted_vault", String(err));
            assertEquals(relay.ops, ["login.start"], "login.finish would confirm the guess");
          } finally {
            await relay.close();
          }
        },
      );

      await t.step(
        "a front box substituting its own CA and certificate: nothing is sent",
        async () => {
          const relay = await hostileWebServer(stack, () => undefined);
          const box = await _certificateSwappingBox(relay.url);
          try {
            const err = await Session.open({
              baseUrl: box.url,
              crypto: wasmSessionCrypto,
              anchors,
            }).then(() => null, (e) => e);
            assertOk(err instanceof RpcError && err.code === "untrusted_server", String(err));
            assertEquals(box.posts, 0, "no KS was sent to anyone");
          } finally {
            await box.close();
            await relay.close();
          }
        },
      );

      await t.step("a substituted bank key is refused", async () => {
        const dir = await Deno.makeTempDir({ prefix: "roamsign-fake-bank-" });
        try {
          const fake = await loadHostKeys(dir, "bank");
          const keys = {
            name: "bank",
            integrityCert: fake.integrityCert,
            confidentialityCert: fake.confidentialityCert,
            currency: "GBP",
          };
          const err = await checkHostKeys(keys, { ...anchors, hosts: { bank: "ab".repeat(32) } })
            .then(() => null, (e) => e);
          assertOk(err instanceof FlowError && err.code === "untrusted_host", String(err));
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      });

      await t.step("ca.issueServer from the web caller is refused", async () => {
        const spki = b64uEncode(await oaepSpki());
        const err = await stack.webClient().call(
          "ca.issueServer",
          { spki, purpose: "confidentiality" },
          { clientAddress: "" },
        ).then(() => null, (e) => e);
        assertOk(err instanceof ApiError && err.status === 403, String(err));
      });
    } finally {
      await stack.stop();
    }
  },
});

/**
 * A box in front of the web server that rewrites only `/api/session` answers: its own
 * CA as the integrity certificate and a confidentiality certificate it made for its own
 * key. It counts the POSTs (a KS sent to it would be readable by it).
 */
async function _certificateSwappingBox(target: string) {
  const ca = await makeTestCa();
  const spki = await oaepSpki();
  const conf = await ca.issue(spki, "roamsign confidentiality");
  let posts = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (req.method === "POST") posts++;
    const res = await fetch(`${target}${url.pathname}`, {
      method: req.method,
      headers: req.headers,
      body: req.method === "POST" ? await req.arrayBuffer() : undefined,
    });
    if (url.pathname !== "/api/session") return res;
    const offer = await res.json();
    return Response.json({ ...offer, integrityCert: ca.pem, confidentialityCert: conf });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get posts() {
      return posts;
    },
    close: () => server.shutdown(),
  };
}
