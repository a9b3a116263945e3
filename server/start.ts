/**
 * `deno task start`: the supervisor. Creates `DATA_DIR/secrets/*.key` (0600) if
 * missing, then starts key-vault, proxy, the demo bank (examples/host-bank) and the
 * web server as separate child processes (the web server's confidentiality key
 * certified by the CA with the operator's credential just before it starts),
 * each after the previous one's `/healthz` answers, prints the URL, restarts a child
 * that dies (backoff 1 s, 2 s, 4 s … 30 s; reset after a minute of uptime), and on
 * Ctrl-C / SIGTERM stops them all (bank, web, proxy, vault) and exits.
 *
 * Ports and URLs come from the environment (README): `PORT`/`HOST` (web, 8000),
 * `PROXY_PORT` (8001), `VAULT_PORT` (8002), `HOST_BANK_PORT` (8003; `HOST_BANK_URL=none`
 * leaves the bank out).
 *
 * @module
 */
import { ensureSecrets } from "../platform/mod.ts";
import { configureLog, log, logLifecycle } from "../platform/mod.ts";
import { type Child, type ChildSpec, spawnChild, waitHealthy } from "../platform/mod.ts";
import { provisionConfidentialityKey } from "../platform/mod.ts";

configureLog("supervisor");

const _ROOT = new URL("../", import.meta.url).pathname;

interface Service {
  spec: ChildSpec;
  healthUrl: string;
  child?: Child;
  restarts: number;
  startedAt: number;
}

async function main(): Promise<void> {
  const dataDir = Deno.env.get("DATA_DIR") || "./data";
  await ensureSecrets(dataDir);
  const host = Deno.env.get("HOST") || "127.0.0.1";
  const webPort = Number(Deno.env.get("PORT") || 8000);
  const proxyPort = Number(Deno.env.get("PROXY_PORT") || 8001);
  const vaultPort = Number(Deno.env.get("VAULT_PORT") || 8002);
  const vaultUrl = Deno.env.get("VAULT_URL") || `http://127.0.0.1:${vaultPort}`;
  const proxyUrl = Deno.env.get("PROXY_URL") || `http://127.0.0.1:${proxyPort}`;
  const bankPort = Number(Deno.env.get("HOST_BANK_PORT") || 8003);
  const bankUrl = Deno.env.get("HOST_BANK_URL") || `http://127.0.0.1:${bankPort}`;
  const browserHost = host === "0.0.0.0" ? "127.0.0.1" : host;
  const env = {
    ...Deno.env.toObject(),
    DATA_DIR: dataDir,
    VAULT_PORT: String(vaultPort),
    PROXY_PORT: String(proxyPort),
    PORT: String(webPort),
    HOST: host,
    VAULT_URL: vaultUrl,
    PROXY_URL: proxyUrl,
    HOST_BANK_PORT: String(bankPort),
    HOST_BANK_URL: bankUrl,
    // The bank checks signatures against the public directory of this web server, and
    // pins the CA the vault writes before it answers (the bank starts after it).
    ROAMSIGN_URL: Deno.env.get("ROAMSIGN_URL") || `http://${browserHost}:${webPort}`,
    ROAMSIGN_CA_FILE: Deno.env.get("ROAMSIGN_CA_FILE") || `${dataDir}/ca.pem`,
  };
  // The bank before the web server: both publish trust anchors (DATA_DIR/anchors/) that
  // the web server's applet build compiles in (docs/trust-anchors.md).
  const services: Service[] = [
    { name: "key-vault", script: "key-vault/main.ts", health: `${vaultUrl}/healthz` },
    { name: "proxy", script: "proxy/main.ts", health: `${proxyUrl}/healthz` },
    ...(bankUrl === "none" ? [] : [
      { name: "host-bank", script: "examples/host-bank/main.ts", health: `${bankUrl}/healthz` },
    ]),
    { name: "web", script: "server/main.ts", health: `http://${browserHost}:${webPort}/healthz` },
  ].map((s) => ({
    spec: { name: s.name, script: `${_ROOT}${s.script}`, env, echo: true, cwd: Deno.cwd() },
    healthUrl: s.health,
    restarts: 0,
    startedAt: 0,
  }));

  let stopping = false;

  const launch = (service: Service): Child => {
    const child = spawnChild(service.spec);
    service.child = child;
    service.startedAt = Date.now();
    logLifecycle("child_started", { child: service.spec.name, pid: child.pid });
    child.exited.then((status) => {
      if (stopping || service.child !== child) return;
      if (Date.now() - service.startedAt > 60_000) service.restarts = 0;
      const delay = Math.min(30_000, 1_000 * 2 ** service.restarts);
      service.restarts += 1;
      log("warn", "child_exited", {
        child: service.spec.name,
        code: status.code,
        restartInMs: delay,
      });
      setTimeout(() => {
        if (stopping) return;
        const next = launch(service);
        waitHealthy(service.healthUrl, 120_000)
          .then(() => logLifecycle("child_restarted", { child: service.spec.name, pid: next.pid }))
          .catch((err) =>
            log("error", "child_unhealthy", { child: service.spec.name, error: String(err) })
          );
      }, delay);
    });
    return child;
  };

  const stopAll = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "stopping", { signal });
    for (const s of [...services].reverse()) await s.child?.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stopAll("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stopAll("SIGTERM"));

  for (const service of services) {
    try {
      if (service.spec.name === "web") {
        // The CA certifies the web server's confidentiality key for the operator only.
        await provisionConfidentialityKey(dataDir, proxyUrl);
      }
      const child = launch(service);
      await Promise.race([
        waitHealthy(service.healthUrl, 120_000),
        child.exited.then((s) => {
          throw new Error(`${service.spec.name} exited with ${s.code} during start`);
        }),
      ]);
    } catch (err) {
      log("error", "start_failed", { child: service.spec.name, error: String(err) });
      stopping = true;
      for (const s of [...services].reverse()) await s.child?.stop();
      Deno.exit(1);
    }
  }
  console.log(`\nroamsign is running at http://${browserHost}:${webPort}/  (Ctrl-C stops it)\n`);
  logLifecycle("ready", { url: `http://${browserHost}:${webPort}/`, dataDir });
}

if (import.meta.main) await main();
