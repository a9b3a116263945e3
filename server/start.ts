/**
 * `deno task start`: the supervisor. Creates `DATA_DIR/secrets/*.key` (0600) if
 * missing, then starts key-vault, proxy, the demo bank (examples/host-bank) and the
 * web server as separate child processes (the web server's confidentiality key
 * certified by the CA with the operator's credential just before it starts),
 * each after the previous one's `/healthz` answers, prints the URL, restarts a child
 * that dies (backoff 1 s, 2 s, 4 s … 30 s; reset after a minute of uptime), and on
 * Ctrl-C / SIGTERM stops them all (bank, web, proxy, vault) and exits.
 *
 * The processes, their entry files, ports, URLs and start order are the topology table
 * (`platform/topology.ts`); ports and URLs come from the environment (README), read once
 * in `start_config.ts`: `PORT`/`HOST` (web, 8000), `PROXY_PORT` (8001), `VAULT_PORT`
 * (8002), `HOST_BANK_PORT` (8003; `HOST_BANK_URL=none` leaves the bank out).
 *
 * @module
 */
import { ensureSecrets } from "../platform/mod.ts";
import { configureLog, log, logLifecycle } from "../platform/mod.ts";
import { type Child, type ChildSpec, spawnChild, waitHealthy } from "../platform/mod.ts";
import { provisionConfidentialityKey } from "../platform/mod.ts";
import { healthUrl, type ProcessSpec, processSpec } from "../platform/mod.ts";
import { browserUrl, type SupervisorConfig, supervisorConfigFromEnv } from "./start_config.ts";

configureLog("supervisor");

const _ROOT = new URL("../", import.meta.url).pathname;

interface Service {
  process: ProcessSpec;
  spec: ChildSpec;
  healthUrl: string;
  child?: Child;
  restarts: number;
  startedAt: number;
}

/** The supervisor's state: its services in start order, and whether it is stopping. */
interface Supervisor {
  config: SupervisorConfig;
  services: Service[];
  stopping: boolean;
}

/** One service per process to start, in the topology's order. */
function _services(config: SupervisorConfig): Service[] {
  return config.start.map((name) => {
    const process = processSpec(name);
    return {
      process,
      spec: {
        name,
        script: `${_ROOT}${process.entry}`,
        env: config.childEnv,
        // Children write their log lines to our stdout/stderr themselves; readiness is
        // their `/healthz`, a crash is their exit status (no line is read here).
        inherit: true,
        cwd: Deno.cwd(),
      },
      healthUrl: healthUrl(process, config.urls[name]),
      restarts: 0,
      startedAt: 0,
    };
  });
}

/** Starts a service's child; restarts it with backoff when it dies unasked. */
function _launch(sup: Supervisor, service: Service): Child {
  const child = spawnChild(service.spec);
  service.child = child;
  service.startedAt = Date.now();
  logLifecycle("child_started", { child: service.spec.name, pid: child.pid });
  child.exited.then((status) => {
    if (sup.stopping || service.child !== child) return;
    if (Date.now() - service.startedAt > 60_000) service.restarts = 0;
    const delay = Math.min(30_000, 1_000 * 2 ** service.restarts);
    service.restarts += 1;
    log("warn", "child_exited", {
      child: service.spec.name,
      code: status.code,
      restartInMs: delay,
    });
    setTimeout(() => _restart(sup, service), delay);
  });
  return child;
}

function _restart(sup: Supervisor, service: Service): void {
  if (sup.stopping) return;
  const next = _launch(sup, service);
  waitHealthy(service.healthUrl, 120_000)
    .then(() => logLifecycle("child_restarted", { child: service.spec.name, pid: next.pid }))
    .catch((err) =>
      log("error", "child_unhealthy", { child: service.spec.name, error: String(err) })
    );
}

/** Stops every child, the last started first. */
async function _stopChildren(sup: Supervisor): Promise<void> {
  for (const s of [...sup.services].reverse()) await s.child?.stop();
}

/** On SIGINT / SIGTERM: stop them all and exit 0. */
function _onSignals(sup: Supervisor): void {
  const stopAll = async (signal: string) => {
    if (sup.stopping) return;
    sup.stopping = true;
    log("info", "stopping", { signal });
    await _stopChildren(sup);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stopAll("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stopAll("SIGTERM"));
}

/** Starts one service and waits for its health check (or its early exit, then throws). */
async function _startOne(sup: Supervisor, service: Service): Promise<void> {
  if (service.process.certifyKeyFirst) {
    // The CA certifies the web server's confidentiality key for the operator only.
    await provisionConfidentialityKey(sup.config.dataDir, sup.config.urls.proxy);
  }
  const child = _launch(sup, service);
  await Promise.race([
    waitHealthy(service.healthUrl, 120_000),
    child.exited.then((s) => {
      throw new Error(`${service.spec.name} exited with ${s.code} during start`);
    }),
  ]);
}

async function main(): Promise<void> {
  const config = supervisorConfigFromEnv();
  await ensureSecrets(config.dataDir);
  const sup: Supervisor = { config, services: _services(config), stopping: false };
  _onSignals(sup);
  for (const service of sup.services) {
    try {
      await _startOne(sup, service);
    } catch (err) {
      log("error", "start_failed", { child: service.spec.name, error: String(err) });
      sup.stopping = true;
      await _stopChildren(sup);
      Deno.exit(1);
    }
  }
  const url = browserUrl(config);
  console.log(`\nroamsign is running at ${url}  (Ctrl-C stops it)\n`);
  logLifecycle("ready", { url, dataDir: config.dataDir });
}

if (import.meta.main) await main();
