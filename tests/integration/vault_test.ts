/**
 * The vault and proxy as real processes, on PGlite and on PostgreSQL: the whole life
 * of a user at the vault level (apply → consent → login → update → re-register →
 * revoke), and the vault's refusal of anything that does not come from the proxy.
 */
import * as opaque from "@serenity-kit/opaque";
import { ApiError } from "../../platform/mod.ts";
import { importHmacKey, signRequest } from "../../platform/mod.ts";
import { createProxyClient } from "../../platform/mod.ts";
import { b64uDecode } from "../../protocol/mod.ts";
import { postgresAvailable, startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";
import { assert, assertEquals } from "../fixtures/assert.ts";

async function refused(p: Promise<unknown>, code: string, status?: number): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError && e.code === code && (status === undefined || e.status === status)) {
      return e;
    }
    throw new Error(`expected ${code}, got ${e instanceof ApiError ? `${e.status} ${e.code}` : e}`);
  }
  throw new Error(`expected ${code}, got success`);
}

for (const db of ["pglite", "postgres"] as const) {
  Deno.test({
    name: `vault through the proxy on ${db}`,
    ignore: db === "postgres" && !(await postgresAvailable()),
    fn: async (t) => {
      const stack = await startStack({ db });
      const web = stack.webClient();
      const admin = stack.adminClient();
      try {
        const alice = await u.makeUser("alice");

        await t.step("the vault refuses a call that is not signed by the proxy", async () => {
          const res = await fetch(`${stack.vaultUrl}/v1/ca.get`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
          });
          assert(res.status === 401 && (await res.json()).error.code === "unsigned");
          // The web server's key is valid at the proxy, but not at the vault.
          const direct = createProxyClient({
            url: stack.vaultUrl,
            keyId: "web",
            secret: stack.secrets["web-proxy.key"],
          });
          await refused(direct.call("ca.get", {}), "unknown_key", 401);
          // The proxy's key id with another key.
          const forged = createProxyClient({
            url: stack.vaultUrl,
            keyId: "proxy",
            secret: stack.secrets["web-proxy.key"],
          });
          await refused(forged.call("ca.get", {}), "bad_signature", 401);
          assert(
            stack.vault.lines.some((l) => l.includes('"vault_refused"')),
            "refusals are logged",
          );
        });

        await t.step(
          "a correctly signed request straight to the vault is still single use",
          async () => {
            const key = await importHmacKey(b64uDecode(stack.secrets["proxy-vault.key"]));
            const body = new TextEncoder().encode("{}");
            const headers = await signRequest({
              key,
              keyId: "proxy",
              method: "POST",
              path: "/v1/ca.get",
              body,
            });
            const send = () =>
              fetch(`${stack.vaultUrl}/v1/ca.get`, {
                method: "POST",
                headers: { ...headers, "content-type": "application/json" },
                body,
              });
            assert((await send()).status === 200);
            const again = await send();
            assert(again.status === 401 && (await again.json()).error.code === "replayed_nonce");
          },
        );

        await t.step("apply stores a pending application and queues a letter", async () => {
          const r = await u.apply(web, alice);
          assert(r.status === "pending" && Date.parse(r.consentExpiresAt) > Date.now());
          const app = await web.call("application.get", { identity: "alice" }, {
            clientAddress: alice.address,
          }) as { status: string };
          assert(app.status === "pending");
          const { pending } = await admin.call("admin.pending", {}) as {
            pending: { identity: string }[];
          };
          assert(pending.some((p) => p.identity === "alice"));
        });

        await t.step("a second application for a pending identity is refused", async () => {
          const again = await u.makeUser("alice");
          await refused(u.apply(web, again), "application_pending", 409);
        });

        await t.step("login before consent is refused", async () => {
          await refused(u.login(web, alice), "account_pending", 403);
        });

        await t.step(
          "consent: typo caught, wrong data refused, wrong phrase counted, right phrase activates",
          async () => {
            const phrase = await u.letterPhrase(admin, "alice");
            const typo = phrase.slice(0, 2) + (phrase[2] === "A" ? "B" : "A") + phrase.slice(3);
            await refused(u.consent(web, alice, typo), "phrase_typo", 400);
            const other = {
              ...alice,
              registration: { ...alice.registration, accountNumber: "999" },
            };
            // With the letter's phrase the vault says which field differs; without it, not.
            const m = await refused(u.consent(web, other, phrase), "registration_mismatch", 400);
            assertEquals(m.details?.fields, ["accountNumber"]);
            const wrong = (await import("../../protocol/mod.ts")).generateConsentPhrase().text;
            const e = await refused(u.consent(web, alice, wrong), "wrong_phrase", 403);
            assert(e.details?.attemptsLeft === 4, JSON.stringify(e.details));
            const ok = await u.consent(web, alice, phrase);
            assert(ok.status === "active" && ok.certificate.includes("BEGIN CERTIFICATE"));
            await refused(u.consent(web, alice, phrase), "already_active", 409);
          },
        );

        await t.step("directory and CA reads", async () => {
          const dir = await web.call("directory.get", { identity: "alice" }) as {
            status: string;
            certificate: string;
            serial: string;
          };
          assert(dir.status === "active" && dir.certificate.includes("BEGIN CERTIFICATE"));
          const ca = await web.call("ca.get", {}) as { certificate: string };
          assert(ca.certificate.includes("BEGIN CERTIFICATE"));
          await refused(web.call("directory.get", { identity: "nobody" }), "no_certificate", 404);
        });

        await t.step(
          "login releases the record only after a successful OPAQUE finish",
          async () => {
            const bad = await u.login(web, alice, "not the pass phrase");
            assert(!bad.ok, "a wrong pass phrase must not produce a finish message");
            // A forged finish for that loginId is refused, and the loginId is spent.
            await refused(
              web.call(
                "login.finish",
                { loginId: bad.loginId, finishLoginRequest: "A".repeat(86) },
                { clientAddress: alice.address },
              ),
              "login_failed",
              401,
            );
            await refused(
              web.call(
                "login.finish",
                { loginId: bad.loginId, finishLoginRequest: "A".repeat(86) },
                { clientAddress: alice.address },
              ),
              "login_expired",
              401,
            );
            const good = await u.login(web, alice);
            assert(good.ok);
            const opened = await u.openKeyRecord(good.keyRecord, good.exportKey, good.registration);
            assert(opened.hashOk, "SKu ‖ registration hash check");
            const pkcs8 = new Uint8Array(
              await crypto.subtle.exportKey("pkcs8", alice.keys.privateKey),
            );
            assert(opened.pkcs8.join() === pkcs8.join(), "the decrypted key is alice's key");
          },
        );

        await t.step("an unknown identity gets an OPAQUE answer that leads nowhere", async () => {
          const ghost = await u.makeUser("ghost");
          const r = await u.login(web, ghost);
          assert(!r.ok);
        });

        await t.step(
          "registration.update is signed by the current key; a bad signature changes nothing",
          async () => {
            const login = await u.login(web, alice);
            assert(login.ok);
            const registration = { ...alice.registration, address: "2 New Street, Bath" };
            const updated = { ...alice, registration };
            const keyRecord = await u.buildKeyRecord(updated, login.exportKey);
            const nonce = u.freshNonce();
            const reauthLoginId = await u.reauthProof(web, alice);
            const body = { registration, keyRecord, reauthLoginId, nonce };
            const wrongKey = (await u.makeUser("mallory")).keys.privateKey;
            const badSig = await u.signUserRequest(
              wrongKey,
              "registration.update",
              "alice",
              nonce,
              body,
            );
            await refused(
              web.call("registration.update", { ...body, signature: badSig }, {
                clientAddress: alice.address,
              }),
              "signature_invalid",
              403,
            );
            const sig = await u.signUserRequest(
              alice.keys.privateKey,
              "registration.update",
              "alice",
              nonce,
              body,
            );
            await web.call("registration.update", { ...body, signature: sig }, {
              clientAddress: alice.address,
            });
            await refused(
              web.call("registration.update", { ...body, signature: sig }, {
                clientAddress: alice.address,
              }),
              "nonce_used",
              409,
            );
            alice.registration = registration;
            const again = await u.login(web, alice);
            assert(again.ok && again.registration.address === "2 New Street, Bath");
            assert(
              (await u.openKeyRecord(again.keyRecord, again.exportKey, alice.registration)).hashOk,
            );
          },
        );

        let firstSerial = "";
        await t.step(
          "reregister swaps key and record atomically and supersedes the old certificate",
          async () => {
            firstSerial =
              (await web.call("directory.get", { identity: "alice" }) as { serial: string }).serial;
            const next = await u.makeUser("alice", {
              password: "a brand new pass phrase",
              registration: alice.registration,
              address: alice.address,
            });
            await opaque.ready;
            // A fresh re-authentication: register.start needs it for an existing identity.
            const reauthLoginId = await u.reauthProof(web, alice);
            const start = opaque.client.startRegistration({ password: next.password });
            const { registrationResponse } = await web.call("register.start", {
              identity: "alice",
              registrationRequest: start.registrationRequest,
              reauthLoginId,
            }, { clientAddress: alice.address }) as { registrationResponse: string };
            const fin = opaque.client.finishRegistration({
              clientRegistrationState: start.clientRegistrationState,
              registrationResponse,
              password: next.password,
              keyStretching: { "argon2id-custom": { ...u.LIGHT_KSF } },
            });
            const body = {
              identity: "alice",
              spki: next.spkiB64u,
              keyRecord: await u.buildKeyRecord(next, fin.exportKey),
              registrationRecord: fin.registrationRecord,
              nonce: u.freshNonce(),
              reauthLoginId,
            };
            const signature = await u.signUserRequest(
              alice.keys.privateKey,
              "reregister",
              "alice",
              body.nonce,
              body,
            );
            const r = await web.call("reregister", { ...body, signature }, {
              clientAddress: alice.address,
            }) as { certificate: string; superseded: string };
            assert(r.superseded === firstSerial);
            const { certificates } = await web.call("directory.history", { identity: "alice" }) as {
              certificates: { serial: string; status: string }[];
            };
            assert(
              certificates.map((c) => c.status).join() === "superseded,active",
              JSON.stringify(certificates),
            );
            assert(!(await u.login(web, alice)).ok, "the old pass phrase no longer works");
            Object.assign(alice, next);
            assert((await u.login(web, alice)).ok);
          },
        );

        await t.step("revoke erases the records; later sign-in gets account_revoked", async () => {
          const nonce = u.freshNonce();
          const body = { identity: "alice", nonce, reauthLoginId: await u.reauthProof(web, alice) };
          const signature = await u.signUserRequest(
            alice.keys.privateKey,
            "revoke",
            "alice",
            nonce,
            body,
          );
          const r = await web.call("revoke", { ...body, signature }, {
            clientAddress: alice.address,
          }) as { status: string };
          assert(r.status === "revoked");
          await refused(u.login(web, alice), "account_revoked", 403);
          const dir = await web.call("directory.get", { identity: "alice" }) as { status: string };
          assert(dir.status === "revoked");
          const { crl } = await web.call("crl.get", {}) as { crl: string };
          assert(crl.includes("BEGIN X509 CRL"));
          await refused(u.apply(web, await u.makeUser("alice")), "identity_taken", 409);
        });

        await t.step("operator revoke through admin.revoke, audited with the reason", async () => {
          const bob = await u.makeUser("bob");
          await u.apply(web, bob);
          await u.consent(web, bob, await u.letterPhrase(admin, "bob"));
          await refused(
            web.call("admin.revoke", { identity: "bob", reason: "x" }),
            "op_forbidden",
            403,
          );
          const r = await admin.call("admin.revoke", { identity: "bob", reason: "lost phone" }) as {
            status: string;
          };
          assert(r.status === "revoked");
          await refused(u.login(web, bob), "account_revoked", 403);
          const report = await admin.call("admin.audit.verify", {}) as {
            ok: boolean;
            rows: number;
          };
          assert(report.ok && report.rows > 10, JSON.stringify(report));
        });

        await t.step("logs carry no secret", () => {
          const logs = [...stack.vault.lines, ...stack.proxy.lines].join("\n");
          for (const secret of Object.values(stack.secrets)) {
            assert(!logs.includes(secret), "a key in the logs");
          }
          assert(
            !logs.includes(alice.password) && !logs.includes('alice"'),
            "pass phrase or identity in the logs",
          );
        });
      } finally {
        await stack.stop();
      }
    },
  });
}
