/**
 * Prometheus metrics shared by every roamsign process (docs/operations.md), through
 * `prom-client`. One registry per process ({@link registry}); each process calls
 * {@link enableProcessMetrics} once at start (service label, process memory, CPU,
 * event-loop lag) and mounts {@link httpMetrics} and a `/metrics` route.
 *
 * What never becomes a label: raw paths, identities, addresses, nonces. Requests are
 * counted by their route pattern (`/directory/:identity`, `/v1/:op`), operations by
 * their allow-listed name, refusals by their stable error code. A scrape therefore
 * shows counts, never who.
 *
 * @module
 */
import client from "prom-client";
import type { Context, Hono, MiddlewareHandler, Next } from "hono";

/** This process's registry. */
export const registry: client.Registry = new client.Registry();

let _processMetrics = false;

/** Labels every series with `service` and starts the default process metrics (once). */
export function enableProcessMetrics(service: string): void {
  registry.setDefaultLabels({ service });
  if (_processMetrics) return;
  _processMetrics = true;
  client.collectDefaultMetrics({ register: registry });
}

/** HTTP requests answered, by route pattern, method and status code. */
export const httpRequests: client.Counter<"route" | "method" | "code"> = new client.Counter({
  name: "roamsign_http_requests_total",
  help: "HTTP requests answered, by route pattern (never the raw path), method and status code",
  labelNames: ["route", "method", "code"] as const,
  registers: [registry],
});

/** HTTP request duration, by route pattern, method and status code. */
export const httpDuration: client.Histogram<"route" | "method" | "code"> = new client.Histogram({
  name: "roamsign_http_request_duration_seconds",
  help: "Time to answer an HTTP request, by route pattern, method and status code",
  labelNames: ["route", "method", "code"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** Vault operations, by allow-listed operation name and outcome (`ok` or the error code). */
export const vaultOperations: client.Counter<"op" | "outcome"> = new client.Counter({
  name: "roamsign_vault_operations_total",
  help: "Vault operations run, by operation and outcome (ok, or the stable error code)",
  labelNames: ["op", "outcome"] as const,
  registers: [registry],
});

/**
 * Calls of the web server's shared session store (Redis, `REDIS_URL`), by call (`lookup`,
 * `create`, `key`, `accept`, `release`, `delete`): the latency the store adds to a request.
 */
export const sessionStoreSeconds: client.Summary<"op"> = new client.Summary({
  name: "roamsign_web_session_store_seconds",
  help: "Time of one call of the web server's shared session store (Redis), by call",
  labelNames: ["op"] as const,
  percentiles: [0.5, 0.99],
  registers: [registry],
});

/** Proxy decisions, by allow-listed operation, decision and code. */
export const proxyDecisions: client.Counter<"op" | "decision" | "code"> = new client.Counter({
  name: "roamsign_proxy_decisions_total",
  help: "Proxy decisions on POST /v1/<op>: allow or deny, by operation and error code",
  labelNames: ["op", "decision", "code"] as const,
  registers: [registry],
});

/**
 * Rate-limit refusals by the shared guard (key-vault/guard.ts), by rate class and
 * scope: `address` (per client address window), `identity` (per identity, new
 * addresses), `backoff` (per identity and address).
 */
export const rateLimitDenials: client.Counter<"class" | "scope"> = new client.Counter({
  name: "roamsign_rate_limit_denials_total",
  help: "Requests refused by the rate limits, by rate class and scope (address, identity, backoff)",
  labelNames: ["class", "scope"] as const,
  registers: [registry],
});

/**
 * The web server's own security refusals (server/refusal_log.ts: replayed or forged
 * channel requests, wrong session keys, sign-in checks), by their stable code.
 */
export const webRefusals: client.Counter<"code"> = new client.Counter({
  name: "roamsign_web_refusals_total",
  help: "Requests the web server refused for a security reason of its own, by error code",
  labelNames: ["code"] as const,
  registers: [registry],
});

/** Readiness checks that failed, by check name (each `/readyz` answered 503 counts). */
export const readinessFailures: client.Counter<"check"> = new client.Counter({
  name: "roamsign_readiness_failures_total",
  help: "Readiness checks that failed, by check",
  labelNames: ["check"] as const,
  registers: [registry],
});

/**
 * A gauge computed at scrape time. `read` returns the value; when it throws, the
 * gauge reads NaN in that scrape (never a stale or made-up number) and
 * `roamsign_scrape_errors_total` counts it.
 * Registering the same name again replaces the previous gauge (tests that build
 * several apps in one process).
 */
export function scrapeGauge(name: string, help: string, read: () => Promise<number>): client.Gauge {
  registry.removeSingleMetric(name);
  return new client.Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      try {
        this.set(await read());
      } catch {
        this.set(NaN);
        scrapeErrors.inc({ metric: name });
      }
    },
  });
}

/** Scrape-time gauges whose query failed. */
export const scrapeErrors: client.Counter<"metric"> = new client.Counter({
  name: "roamsign_scrape_errors_total",
  help: "Scrape-time gauges whose value could not be read (e.g. database down), by metric",
  labelNames: ["metric"] as const,
  registers: [registry],
});

/**
 * The route label of a request: hono's matched route pattern, or `(unmatched)` when
 * only middleware matched (a 404). Never the raw path.
 */
export function routeLabel(c: Context): string {
  const route = c.req.routePath;
  if (!route || route === "*" || route === "/*") return "(unmatched)";
  return route;
}

/** Counts and times every request by route pattern, method and status. */
export function httpMetrics(): MiddlewareHandler {
  return async function httpMetricsHandler(c: Context, next: Next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      const method = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"].includes(
          c.req.method,
        )
        ? c.req.method
        : "OTHER";
      const labels = { route: routeLabel(c), method, code: String(c.res.status) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, (performance.now() - started) / 1000);
    }
  };
}

/** The exposition of {@link registry} as a Response. */
export async function metricsResponse(): Promise<Response> {
  const text = await registry.metrics();
  return new Response(text, {
    headers: { "content-type": registry.contentType, "cache-control": "no-store" },
  });
}

/** Adds `GET /metrics` to an app. */
export function mountMetrics(app: Hono): void {
  app.get("/metrics", () => metricsResponse());
}

// ---- readiness ---------------------------------------------------------------------------

/** A readiness check: resolves when fine, throws with a short reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

/** What `/readyz` answers. */
export interface Readiness {
  ok: boolean;
  checks: Record<string, string>;
}

function _reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, " ").slice(0, 120);
}

/**
 * Runs every check (in parallel, each at most `timeoutMs`): `{ ok, checks: { name:
 * "ok" | "failed: <short reason>" } }`.
 */
export async function runReadiness(
  checks: Record<string, ReadinessCheck>,
  timeoutMs = 3_000,
): Promise<Readiness> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map(async (name) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        checks[name](),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out")), timeoutMs);
        }),
      ]);
      return "ok";
    } catch (err) {
      readinessFailures.inc({ check: name });
      return `failed: ${_reason(err)}`;
    } finally {
      clearTimeout(timer);
    }
  }));
  const out: Readiness = { ok: results.every((r) => r === "ok"), checks: {} };
  names.forEach((n, i) => (out.checks[n] = results[i]));
  return out;
}

/** Answers `/readyz`: 200 when every check passes, else 503 (body: {@link Readiness}). */
export async function readinessResponse(
  checks: Record<string, ReadinessCheck>,
  timeoutMs?: number,
): Promise<Response> {
  const r = await runReadiness(checks, timeoutMs);
  return Response.json(r, { status: r.ok ? 200 : 503, headers: { "cache-control": "no-store" } });
}

/** Adds `GET /readyz` to an app. */
export function mountReadiness(app: Hono, checks: Record<string, ReadinessCheck>): void {
  app.get("/readyz", () => readinessResponse(checks));
}

/** A check that `url` answers 2xx within the check's timeout (reason: status or "unreachable"). */
export function httpCheck(url: string): ReadinessCheck {
  return async () => {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(2_500) });
    } catch {
      throw new Error("unreachable");
    }
    await res.body?.cancel();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  };
}

/**
 * A separate operator listener serving only `/metrics`, `/healthz` and `/readyz`
 * (the web server's `METRICS_PORT`: its public port does not expose metrics).
 */
export function serveOperatorListener(options: {
  hostname: string;
  port: number;
  checks?: Record<string, ReadinessCheck>;
  onListen?: (addr: Deno.NetAddr) => void;
}): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: options.onListen,
  }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.method !== "GET") {
      return Response.json({ error: { code: "method_not_allowed", message: "use GET" } }, {
        status: 405,
      });
    }
    if (path === "/metrics") return metricsResponse();
    if (path === "/healthz") return Response.json({ ok: true });
    if (path === "/readyz") return readinessResponse(options.checks ?? {});
    return Response.json({ error: { code: "not_found", message: "no such route" } }, {
      status: 404,
    });
  });
}
