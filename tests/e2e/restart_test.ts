/// <reference lib="dom" />
/**
 * Every process restarted under a signed-in applet (issue 7, "Faults"), in Debian
 * Chromium against real processes: the user signs in, then the vault, the proxy,
 * PostgreSQL (a throwaway cluster of this test's own, when one can be started), the
 * bank and the web server are each SIGKILLed and started again in turn. After each:
 *
 * - vault, proxy, PostgreSQL, bank: the signed-in applet still signs (verified by the
 *   server) and still pays at the bank — the web session lives in the web server;
 * - web server: its sessions were in its memory, so the applet shows the stable
 *   `session_ended` alert and the signed-out view (not a hang, not a generic error),
 *   and signing in again works;
 *
 * and no record is lost or duplicated: the vault's rows for the user and the bank's
 * ledger hold exactly what was done, and the audit chain verifies.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { assertConsistent } from "../fixtures/consistency.ts";
import { type PgCluster, startPgCluster } from "../fixtures/pg_cluster.ts";
import {
  createTestDatabase,
  postgresAvailable,
  sqlAsAdmin,
  type Stack,
  startStack,
  type TestDatabase,
} from "../../harness/mod.ts";
import { startTcpRelay, type TcpRelay } from "../fixtures/tcp_relay.ts";
import {
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  outcome,
  sendToBankInPage,
  signInInPage,
  signInPageMessage,
} from "./_applet.ts";
import { applyFromDeno, consentFromDeno } from "./_deno_client.ts";
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";

Deno.test({
  name: "[slow] restarts under a signed-in applet: vault, proxy, PostgreSQL, bank, web server",
  ignore: !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    // PostgreSQL: our own cluster (so it can be killed too), else the shared server.
    const cluster: PgCluster | undefined = await startPgCluster();
    let testDb: TestDatabase | undefined;
    let relay: TcpRelay | undefined;
    let databaseUrl: string;
    if (cluster) {
      await sqlAsAdmin(cluster.url, "create database roamsign");
      databaseUrl = cluster.url.replace(/\/postgres$/, "/roamsign");
    } else if (await postgresAvailable()) {
      console.warn("restarts: PostgreSQL itself is not restarted (no cluster of our own)");
      testDb = await createTestDatabase();
      databaseUrl = testDb.url;
    } else {
      console.warn("restarts skipped: no PostgreSQL");
      return;
    }
    let stack: Stack | undefined;
    const browser = await launch();
    try {
      // The vault reaches PostgreSQL through a relay: a crash cuts its connections.
      const target = new URL(databaseUrl);
      relay = startTcpRelay({ hostname: target.hostname, port: Number(target.port || 5432) });
      const viaRelay = new URL(databaseUrl);
      viaRelay.port = String(relay.port);
      stack = await startStack({ databaseUrl: viaRelay.toString(), host: true, ksf: KSF_DEFAULT });
      const s = stack;
      const webUrl = s.webUrl!;
      const user = newUser("r");
      const passphrase = newPassphrase();
      await applyFromDeno(webUrl, user, passphrase);
      await consentFromDeno(webUrl, user, await consentPhraseFor(s, user.identity));

      const { page, violations } = await pageWithCspRecorder(await browser.newContext());
      assertEquals(await openApplet(page, webUrl), "ready");
      assertEquals(await signInInPage(page, user.identity, passphrase), null);

      let signatures = 0;
      let payments = 0;
      let signIns = 1;
      const signAndPay = async (what: string) => {
        const sig = await signInPageMessage(
          page,
          `after the ${what} restart: ${crypto.randomUUID()}`,
        );
        assertOk(sig.length > 300, "a signature is shown");
        signatures++;
        assertEquals(
          await sendToBankInPage(page, { to: "20-00-00 1", amount: "1.00", reference: what }),
          null,
        );
        payments++;
      };
      await signAndPay("no");

      const restarts: [string, () => Promise<void>][] = [
        ["vault", async () => {
          await s.stopVault(true);
          await s.startVault();
        }],
        ["proxy", async () => {
          await s.stopProxy(true);
          await s.startProxy();
        }],
        ...(cluster
          ? [["PostgreSQL", async () => {
            await cluster.crash();
            await relay!.cut();
            await cluster.start();
          }] as [string, () => Promise<void>]]
          : []),
        ["bank", async () => {
          await s.stopHost(true);
          await s.startHost();
        }],
      ];
      for (const [name, restart] of restarts) {
        await t.step(`${name} restarted: the applet still signs and pays`, async () => {
          await restart();
          await signAndPay(name);
          assertEquals(await page.getByRole("alert").textContent(), "");
        });
      }

      await t.step(
        "web server restarted: session_ended, signed out; signing in again works",
        async () => {
          await s.stopWeb(true);
          await s.startWeb();
          await page.getByLabel("Message", { exact: true }).fill("after the web server restart");
          await page.getByRole("button", { name: "Sign message", exact: true }).click();
          const alert = await outcome(page, /^$a/, 60_000); // only an alert ends this
          assertOk(alert && /sign in again/i.test(alert), String(alert));
          assertEquals(await page.getByRole("alert").getAttribute("data-code"), "session_ended");
          assertEquals(await page.locator("#signed-in-as").count(), 0);
          assertOk(/Your session ended/.test((await page.getByRole("status").textContent()) ?? ""));
          assertEquals(await signInInPage(page, user.identity, passphrase), null);
          signIns++;
          await signAndPay("web server");
        },
      );

      await t.step(
        "web server restarted under a page not yet used: the first sign-in goes through",
        async () => {
          // The worker opens its session as soon as it is ready (applet/worker.ts `_session`);
          // the restarted server has forgotten it, and the sign-in must not fail on that.
          const fresh = await pageWithCspRecorder(await browser.newContext());
          const keyed = fresh.page.waitForResponse((r) => r.url().endsWith("/api/session/key"));
          assertEquals(await openApplet(fresh.page, webUrl), "ready");
          assertEquals((await keyed).status(), 200);
          await s.stopWeb(true);
          await s.startWeb();
          assertEquals(await signInInPage(fresh.page, user.identity, passphrase), null);
          signIns++;
          assertEquals(await fresh.violations(), []);
          await fresh.page.context().close();
        },
      );

      await t.step("nothing lost, nothing duplicated", async () => {
        const db = databaseUrl;
        const state = await assertConsistent(db, user.identity);
        assertEquals(state.status, "active");
        assertEquals(state.certificates, { active: 1, superseded: 0, revoked: 0 });
        const ops = (await sqlAsAdmin(
          db,
          `select op, outcome, count(*)::int as n from audit_log where identity = $1
            group by op, outcome order by op, outcome`,
          [user.identity],
        )).rows.map((r: { op: string; outcome: string; n: number }) =>
          `${r.op}:${r.outcome}:${r.n}`
        );
        assertEquals(ops, [
          "apply:pending:1",
          "consent:active:1",
          `login.finish:released:${signIns}`,
          `login.start:started:${signIns}`,
        ]);
        const ledger = JSON.parse(
          await Deno.readTextFile(`${s.dataDir}/host-bank/ledger.json`),
        ) as { messages: Record<string, string> };
        assertEquals(Object.keys(ledger.messages).length, payments);
        assertEquals(signatures, payments);
        const report = await s.adminClient().call("admin.audit.verify", {}) as { ok: boolean };
        assertOk(report.ok, JSON.stringify(report));
        assertEquals(await violations(), []);
      });
    } finally {
      await browser.close();
      await stack?.stop();
      await relay?.close();
      await cluster?.stop();
      await testDb?.drop();
    }
  },
});
