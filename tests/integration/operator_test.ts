/**
 * The operator's view with real processes (docs/operations.md): `/metrics` parses as
 * Prometheus text and its counters move with what happens (an apply raises the consent
 * backlog, a refused guess counts as a rate-limit denial, the audit chain grows); no
 * identity or address reaches a scrape; `/readyz` of the vault goes 503 when its
 * PostgreSQL is cut (tests/fixtures/tcp_relay.ts) and back to 200 when it returns; the
 * proxy's goes 503 while the vault is stopped.
 */
import { generateConsentPhrase } from "../../protocol/mod.ts";
import { ApiError } from "../../platform/mod.ts";
import {
  createTestDatabase,
  postgresAvailable,
  startStack,
  TEST_DATABASE_URL,
} from "../../harness/mod.ts";
import { startTcpRelay } from "../fixtures/tcp_relay.ts";
import * as u from "../../harness/mod.ts";
import { eventually, readyz, scrape, sum } from "../fixtures/metrics.ts";
import { assert } from "../fixtures/assert.ts";

const pg = await postgresAvailable();

Deno.test({
  name: "operator view: vault and proxy /metrics and /readyz follow the database and the vault",
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
    const identity = "metrics-alice";
    try {
      await t.step("both answer /metrics as Prometheus text with process metrics", async () => {
        for (const url of [stack.vaultUrl, stack.proxyUrl]) {
          const { samples } = await scrape(url);
          assert(sum(samples, "process_resident_memory_bytes") > 0, `${url}: memory`);
          assert(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds"), "event loop");
        }
        const { samples } = await scrape(stack.vaultUrl);
        assert(
          samples.find((s) => s.name === "roamsign_vault_database_up")?.value === 1,
          "database up",
        );
        assert(
          sum(samples, "roamsign_ca_expiry_timestamp_seconds") > Date.now() / 1000 + 365 * 86400,
          "CA expiry in the future",
        );
      });

      await t.step("/readyz is 200 with every check ok", async () => {
        const v = await readyz(stack.vaultUrl);
        assert(v.status === 200 && v.ok, JSON.stringify(v));
        assert(
          v.checks.database === "ok" && v.checks.migrations === "ok" &&
            v.checks.master_key === "ok",
          JSON.stringify(v),
        );
        const p = await readyz(stack.proxyUrl);
        assert(p.status === 200 && p.checks.vault === "ok", JSON.stringify(p));
      });

      const alice = await u.makeUser(identity);
      await t.step(
        "an apply raises the consent backlog and the audit chain, counted by op",
        async () => {
          const before = (await scrape(stack.vaultUrl)).samples;
          const proxyBefore = (await scrape(stack.proxyUrl)).samples;
          await u.apply(web, alice);
          // The audit chain is sealed every 250 ms.
          await eventually(async () => {
            const s = (await scrape(stack.vaultUrl)).samples;
            return sum(s, "roamsign_audit_chain_length") >
              sum(before, "roamsign_audit_chain_length");
          }, "audit chain grows");
          const after = (await scrape(stack.vaultUrl)).samples;
          assert(
            sum(after, "roamsign_consent_backlog") === sum(before, "roamsign_consent_backlog") + 1,
            "backlog +1",
          );
          assert(
            sum(after, "roamsign_consent_letters_queued") ===
              sum(before, "roamsign_consent_letters_queued") + 1,
            "letter queued",
          );
          const ok = { op: "apply", outcome: "ok" };
          assert(
            sum(after, "roamsign_vault_operations_total", ok) ===
              sum(before, "roamsign_vault_operations_total", ok) + 1,
            "vault apply counted",
          );
          assert(
            sum(after, "roamsign_http_requests_total", { route: "/v1/:op", code: "200" }) >
              sum(before, "roamsign_http_requests_total", { route: "/v1/:op", code: "200" }),
            "http counted by route pattern",
          );
          const proxyAfter = (await scrape(stack.proxyUrl)).samples;
          const allow = { op: "apply", decision: "allow" };
          assert(
            sum(proxyAfter, "roamsign_proxy_decisions_total", allow) ===
              sum(proxyBefore, "roamsign_proxy_decisions_total", allow) + 1,
            "proxy decision counted",
          );
        },
      );

      await t.step("guessing the consent phrase: the backoff denial is counted", async () => {
        const before = (await scrape(stack.vaultUrl)).samples;
        const deny = { class: "consent", scope: "backoff" };
        const codes: string[] = [];
        for (let i = 0; i < 4; i++) {
          try {
            await u.consent(web, alice, generateConsentPhrase().text);
            codes.push("ok");
          } catch (e) {
            if (!(e instanceof ApiError)) throw e;
            codes.push(e.code);
          }
        }
        assert(codes[3] === "backoff", codes.join());
        const after = (await scrape(stack.vaultUrl)).samples;
        assert(
          sum(after, "roamsign_rate_limit_denials_total", deny) ===
            sum(before, "roamsign_rate_limit_denials_total", deny) + 1,
          "one backoff denial",
        );
        assert(
          sum(after, "roamsign_vault_operations_total", { op: "consent", outcome: "backoff" }) ===
            sum(before, "roamsign_vault_operations_total", { op: "consent", outcome: "backoff" }) +
              1,
          "op outcome backoff",
        );
      });

      await t.step("no identity and no client address reaches a scrape", async () => {
        for (const url of [stack.vaultUrl, stack.proxyUrl]) {
          const { text } = await scrape(url);
          assert(!text.includes(identity), `${url} names the user`);
          assert(!text.includes(alice.address), `${url} names the address`);
        }
      });

      await t.step("database cut: vault /readyz 503 naming the check; back: 200", async () => {
        await relay.down();
        await eventually(async () => (await readyz(stack.vaultUrl)).status === 503, "503");
        const v = await readyz(stack.vaultUrl);
        assert(
          !v.ok && v.checks.database === "failed: database unavailable",
          JSON.stringify(v),
        );
        // The proxy's readiness follows its dependency.
        const p = await readyz(stack.proxyUrl);
        assert(p.status === 503 && p.checks.vault === "failed: HTTP 503", JSON.stringify(p));
        // /metrics still answers, saying the database is down.
        const { samples } = await scrape(stack.vaultUrl);
        assert(
          samples.find((s) => s.name === "roamsign_vault_database_up")?.value === 0,
          "database down",
        );
        assert(
          Number.isNaN(samples.find((s) => s.name === "roamsign_consent_backlog")?.value),
          "backlog unknown (NaN), not stale",
        );
        relay.up();
        await eventually(async () => (await readyz(stack.vaultUrl)).status === 200, "200 again");
      });

      await t.step("vault stopped: proxy /readyz 503 (unreachable); restarted: 200", async () => {
        await stack.stopVault();
        const p = await readyz(stack.proxyUrl);
        assert(p.status === 503 && p.checks.vault === "failed: unreachable", JSON.stringify(p));
        const { samples } = await scrape(stack.proxyUrl);
        assert(sum(samples, "roamsign_readiness_failures_total", { check: "vault" }) >= 2, "fail");
        await stack.startVault();
        await eventually(async () => (await readyz(stack.proxyUrl)).status === 200, "200 again");
      });
    } finally {
      await stack.stop();
      await relay.close();
      await testDb.drop();
    }
  },
});
