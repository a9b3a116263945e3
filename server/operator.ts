/**
 * The web server's operator view (docs/operations.md): `/readyz` checks (on the public
 * port too, for load balancers: its reasons are short and name no internal address)
 * and the operator listener that alone serves `/metrics` (`METRICS_PORT`, on
 * `METRICS_HOST`, loopback by default); the public port never exposes metrics.
 *
 * @module
 */
import {
  httpCheck,
  type ReadinessCheck,
  scrapeGauge,
  serveOperatorListener,
} from "../platform/mod.ts";
import { logLifecycle } from "../platform/mod.ts";
import type { Manifest } from "./build.ts";
import type { MetricsListenerConfig } from "./config.ts";
import type { SessionStore } from "./sessions.ts";

/** The applet is built: `index.html`, the manifest, and every `/applet/` file it lists. */
export function appletCheck(distDir: string): ReadinessCheck {
  return async () => {
    let manifest: Manifest;
    try {
      await Deno.stat(`${distDir}/index.html`);
      manifest = JSON.parse(await Deno.readTextFile(`${distDir}/manifest.json`));
    } catch {
      throw new Error("not built");
    }
    for (const [path, file] of Object.entries(manifest.files ?? {})) {
      if (!path.startsWith("/applet/")) continue;
      const info = await Deno.stat(`${distDir}${path}`).catch(() => null);
      if (!info || info.size !== file.size) throw new Error(`missing or changed: ${path}`);
    }
  };
}

/**
 * `/readyz` of the web server: the proxy answers and the applet is built. Not the shared
 * session store (`REDIS_URL`): every web server shares it, so a Redis outage would empty a
 * load balancer's pool and users would get the balancer's own error instead of
 * `503 session_store_unavailable` (docs/operations.md "Several web servers"); it has its
 * own gauge, `roamsign_web_session_store_up`.
 */
export function webReadiness(distDir: string, proxyUrl: string): Record<string, ReadinessCheck> {
  return {
    proxy: httpCheck(`${proxyUrl.replace(/\/+$/, "")}/healthz`),
    applet: appletCheck(distDir),
  };
}

/**
 * Starts the operator listener when the configuration names one (`METRICS_PORT`; `0`: a
 * free port, logged as `{"event":"metrics_listening","port":…}`); returns undefined
 * otherwise.
 */
export function startOperatorListener(
  checks: Record<string, ReadinessCheck>,
  listener: MetricsListenerConfig | undefined,
): Deno.HttpServer<Deno.NetAddr> | undefined {
  if (!listener) return undefined;
  return serveOperatorListener({
    hostname: listener.hostname,
    port: listener.port,
    checks,
    onListen: (addr) =>
      logLifecycle("metrics_listening", { port: addr.port, hostname: addr.hostname }),
  });
}

/**
 * Registers the web server's own gauges: sessions whose keys it holds in memory, and with
 * Redis whether the shared session store answers.
 */
export function registerWebGauges(
  sessions: Pick<SessionStore, "size"> & Partial<Pick<SessionStore, "kind" | "check">>,
): void {
  if (sessions.kind === "redis" && sessions.check) {
    const check = sessions.check.bind(sessions);
    scrapeGauge(
      "roamsign_web_session_store_up",
      "1 when the shared session store (Redis, REDIS_URL) answers a PING, else 0",
      () => check().then(() => 1, () => 0),
    );
  }
  scrapeGauge(
    "roamsign_web_sessions",
    "Sessions whose channel keys this web server holds in memory (all of its sessions; " +
      "with Redis, those it has served recently)",
    () => Promise.resolve(sessions.size),
  );
}
