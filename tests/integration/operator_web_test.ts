/**
 * The operator's view of the web server and the demo bank, with real processes: the
 * web server's `/metrics` is on its operator listener only (`METRICS_PORT`), never on
 * the public port, and counts `/directory/:identity` without the identity; `/readyz`
 * of the web server follows the proxy (stopped, started again), the bank's follows
 * its ledger storage and the roamsign directory it takes the CA from (each stopped and
 * back).
 */
import { startStack } from "../../harness/mod.ts";
import { eventually, readyz, scrape, sum } from "../fixtures/metrics.ts";
import { assert } from "../fixtures/assert.ts";

Deno.test("[slow] operator view: web /metrics on the operator listener only, web and bank /readyz", async (t) => {
  const stack = await startStack({
    host: true,
    // The test client plays the TLS terminator: it connects from 127.0.0.1.
    env: { METRICS_PORT: "0", TRUSTED_PROXIES: "127.0.0.1", WEB_SESSION_LIMIT: "3" },
  });
  const webUrl = stack.webUrl!;
  const hostUrl = stack.hostUrl!;
  try {
    const line = await stack.web!.waitForLine((j) => j.event === "metrics_listening", 60_000);
    const operatorUrl = `http://127.0.0.1:${line.port}`;
    assert(line.hostname === "127.0.0.1", "operator listener on loopback by default");

    await t.step("the public port has no /metrics; the operator listener has", async () => {
      const res = await fetch(`${webUrl}/metrics`);
      await res.body?.cancel();
      assert(res.status === 404, `public /metrics: ${res.status}`);
      const { samples } = await scrape(operatorUrl);
      assert(sum(samples, "process_resident_memory_bytes") > 0, "process metrics");
      assert(samples.some((s) => s.name === "roamsign_web_sessions"), "session gauge");
    });

    await t.step("requests are counted by route pattern, never by raw path", async () => {
      const who = "operator-probe-person";
      const before = (await scrape(operatorUrl)).samples;
      const res = await fetch(`${webUrl}/directory/${who}`);
      await res.body?.cancel();
      const { text, samples } = await scrape(operatorUrl);
      const route = { route: "/directory/:identity", code: String(res.status) };
      assert(
        sum(samples, "roamsign_http_requests_total", route) ===
          sum(before, "roamsign_http_requests_total", route) + 1,
        `counted under the pattern (HTTP ${res.status})`,
      );
      assert(!text.includes(who), "the identity reached the metrics");
    });

    await t.step("a session key that does not decrypt counts as a web refusal", async () => {
      const before = (await scrape(operatorUrl)).samples;
      const offer = await (await fetch(`${webUrl}/api/session`)).json() as { sid: string };
      const res = await fetch(`${webUrl}/api/session/key`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sid: offer.sid, key: "A".repeat(342) }),
      });
      const body = await res.json() as { error?: { code?: string } };
      assert(body.error?.code === "bad_session_key", JSON.stringify(body));
      const after = (await scrape(operatorUrl)).samples;
      const code = { code: "bad_session_key" };
      assert(
        sum(after, "roamsign_web_refusals_total", code) ===
          sum(before, "roamsign_web_refusals_total", code) + 1,
        "counted",
      );
    });

    await t.step(
      "behind a trusted terminator the session limit keys on X-Forwarded-For",
      async () => {
        const session = async (forwardedFor: string) => {
          const res = await fetch(`${webUrl}/api/session`, {
            headers: { "x-forwarded-for": forwardedFor },
          });
          await res.body?.cancel();
          return res.status;
        };
        const first = [];
        for (let i = 0; i < 4; i++) first.push(await session("203.0.113.10"));
        assert(first.join() === "200,200,200,429", first.join());
        // Another client behind the same terminator is not affected.
        assert((await session("203.0.113.11")) === 200, "another client");
        // A forged entry on the left does not pick the address.
        assert((await session("203.0.113.11, 203.0.113.10")) === 429, "right-most hop counts");
      },
    );

    await t.step("web and bank /readyz are 200 with their checks", async () => {
      const w = await readyz(webUrl);
      assert(
        w.status === 200 && w.checks.proxy === "ok" && w.checks.applet === "ok",
        JSON.stringify(w),
      );
      const o = await readyz(operatorUrl);
      assert(o.status === 200, "operator listener /readyz");
      const b = await readyz(hostUrl);
      assert(
        b.status === 200 && b.checks.ledger === "ok" && b.checks.ca === "ok",
        JSON.stringify(b),
      );
      const { samples } = await scrape(hostUrl);
      assert(sum(samples, "roamsign_http_requests_total", { route: "/readyz" }) >= 1, "bank");
    });

    await t.step("proxy stopped: web /readyz 503; proxy back: 200", async () => {
      await stack.stopProxy();
      const w = await readyz(webUrl);
      assert(w.status === 503 && w.checks.proxy === "failed: unreachable", JSON.stringify(w));
      assert(w.checks.applet === "ok", "the applet check is independent");
      await stack.startProxy();
      await eventually(async () => (await readyz(webUrl)).status === 200, "web ready again");
    });

    await t.step("bank: ledger directory gone → 503; back → 200", async () => {
      const dir = `${stack.dataDir}/host-bank`;
      await Deno.rename(dir, `${dir}.away`);
      try {
        const b = await readyz(hostUrl);
        assert(
          b.status === 503 && b.checks.ledger === "failed: ledger directory missing",
          JSON.stringify(b),
        );
      } finally {
        await Deno.rename(`${dir}.away`, dir);
      }
      assert((await readyz(hostUrl)).status === 200, "ready again");
    });

    await t.step(
      "bank: the roamsign directory stopped → 503 naming the CA; back → 200",
      async () => {
        await stack.stopWeb();
        const b = await readyz(hostUrl);
        assert(
          b.status === 503 && b.checks.ca === "failed: directory unreachable",
          JSON.stringify(b),
        );
        await stack.startWeb();
        await eventually(async () => (await readyz(hostUrl)).status === 200, "bank ready again");
      },
    );
  } finally {
    await stack.stop();
  }
});
