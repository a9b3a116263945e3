/**
 * Faults with real processes and a real PostgreSQL: the database going away, an
 * operation failing half-way, concurrent applications, replayed requests.
 */
import { b64uDecode } from "../../protocol/mod.ts";
import { importHmacKey, signRequest } from "../../platform/mod.ts";
import {
  createTestDatabase,
  postgresAvailable,
  sqlAsAdmin,
  startStack,
  TEST_DATABASE_URL,
} from "../../harness/mod.ts";
import { startTcpRelay } from "../fixtures/tcp_relay.ts";
import * as u from "../../harness/mod.ts";
import { assert, codeOf } from "../fixtures/assert.ts";

const pg = await postgresAvailable();

Deno.test({
  name: "faults against PostgreSQL",
  ignore: !pg,
  fn: async (t) => {
    const testDb = await createTestDatabase();
    const target = new URL(TEST_DATABASE_URL);
    const relay = startTcpRelay({ hostname: target.hostname, port: Number(target.port || 5432) });
    const viaRelay = new URL(testDb.url);
    viaRelay.hostname = "127.0.0.1";
    viaRelay.port = String(relay.port);
    const stack = await startStack({ databaseUrl: viaRelay.toString() });
    const web = stack.webClient();
    const admin = stack.adminClient();
    const count = async (sql: string) => Number((await sqlAsAdmin(testDb.url, sql)).rows[0].n);
    try {
      const alice = await u.makeUser("alice");
      await u.apply(web, alice);

      await t.step(
        "database down → 503 database_unavailable, nothing written; back up → next request works",
        async () => {
          const bob = await u.makeUser("bob");
          const body = await u.applyBody(web, bob); // OPAQUE registration before the outage
          await relay.down();
          assert(
            (await codeOf(web.call("apply", body, { clientAddress: bob.address }))) ===
              "database_unavailable",
          );
          assert((await codeOf(web.call("ca.get", {}))) === "database_unavailable");
          const health = await fetch(`${stack.vaultUrl}/healthz`);
          assert(health.status === 503, `healthz ${health.status}`);
          await health.body?.cancel();
          relay.up();
          assert(
            (await count("select count(*)::int as n from users where identity = 'bob'")) === 0,
            "half-written",
          );
          // The same request body (fresh RPC nonce) now goes through: its user nonce was rolled back too.
          const r = await web.call("apply", body, { clientAddress: bob.address }) as {
            status: string;
          };
          assert(r.status === "pending");
        },
      );

      await t.step(
        "a failure in the middle of consent rolls everything back; the retry succeeds",
        async () => {
          const phrase = await u.letterPhrase(admin, "alice");
          await sqlAsAdmin(
            testDb.url,
            `
          create function fail_cert() returns trigger language plpgsql as $$
          begin raise exception 'injected fault: certificate store failed'; end $$;
          create trigger fail_cert before insert on certificates for each row execute function fail_cert();`,
          );
          const first = await codeOf(u.consent(web, alice, phrase));
          assert(first === "internal", first);
          // key_records was written and users updated before the failing insert: all undone.
          assert(
            (await count("select count(*)::int as n from key_records")) === 0,
            "key record half-written",
          );
          assert(
            (await count(
              "select count(*)::int as n from users where identity = 'alice' and status = 'pending'",
            )) === 1,
          );
          assert(
            (await count(
              "select count(*)::int as n from consents where identity = 'alice' and attempts = 0",
            )) === 1,
          );
          assert(
            (await count("select count(*)::int as n from audit_log where op = 'consent'")) === 0,
          );
          const vaultLog = stack.vault.lines.join("\n");
          assert(!vaultLog.includes(phrase), "the phrase reached a log");
          await sqlAsAdmin(
            testDb.url,
            "drop trigger fail_cert on certificates; drop function fail_cert();",
          );
          const ok = await u.consent(web, alice, phrase);
          assert(ok.status === "active");
        },
      );

      await t.step(
        "two (and eight) concurrent applications for one identity → exactly one pending",
        async () => {
          for (const [identity, n] of [["carol", 2], ["dave", 8]] as const) {
            const users = await Promise.all(
              Array.from(
                { length: n },
                (_, i) => u.makeUser(identity, { address: `198.51.100.${10 + i}` }),
              ),
            );
            const bodies = await Promise.all(users.map((x) => u.applyBody(web, x)));
            const codes = await Promise.all(
              bodies.map((b, i) =>
                codeOf(web.call("apply", b, { clientAddress: users[i].address }))
              ),
            );
            assert(
              codes.filter((c) => c === "ok").length === 1,
              codes.join(),
            );
            assert(codes.filter((c) => c === "application_pending").length === n - 1, codes.join());
            assert(
              (await count(
                `select count(*)::int as n from consents where identity = '${identity}'`,
              )) === 1,
            );
            assert(
              (await count(
                `select count(*)::int as n from audit_log where op = 'apply' and identity = '${identity}' and outcome = 'pending'`,
              )) === 1,
            );
          }
        },
      );

      await t.step(
        "replaying an accepted request is refused, also after a vault restart",
        async () => {
          const erin = await u.makeUser("erin");
          const body = new TextEncoder().encode(JSON.stringify(await u.applyBody(web, erin)));
          const key = await importHmacKey(b64uDecode(stack.secrets["web-proxy.key"]));
          const headers = await signRequest({
            key,
            keyId: "web",
            method: "POST",
            path: "/v1/apply",
            body,
            client: erin.address,
          });
          const send = () =>
            fetch(`${stack.proxyUrl}/v1/apply`, {
              method: "POST",
              headers: { ...headers, "content-type": "application/json" },
              body,
            })
              .then(async (r) => ({ status: r.status, json: await r.json() }));
          assert((await send()).status === 200);
          const again = await send();
          assert(
            again.status === 401 && again.json.error.code === "replayed_nonce",
            JSON.stringify(again),
          );
          await stack.stopVault();
          await stack.startVault();
          const later = await send();
          assert(
            later.status === 401 && later.json.error.code === "replayed_nonce",
            JSON.stringify(later),
          );
          assert(
            (await count("select count(*)::int as n from consents where identity = 'erin'")) === 1,
          );
        },
      );

      await t.step("the audit chain verifies after all of it", async () => {
        const report = await admin.call("admin.audit.verify", {}) as { ok: boolean; rows: number };
        assert(report.ok, JSON.stringify(report));
      });
    } finally {
      await stack.stop();
      await relay.close();
      await testDb.drop();
    }
  },
});
