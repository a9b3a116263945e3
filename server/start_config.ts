/**
 * The supervisor's configuration (`server/start.ts`), read once from the environment:
 * the data directory, every process's port and URL from the topology table
 * (`platform/topology.ts`, defaults as in the README), and the environment its
 * children get. The web server's own variables are read by the web server.
 *
 * @module
 */
import { localUrl, type ProcessName, TOPOLOGY } from "../platform/mod.ts";

/** Everything the supervisor reads at start. */
export interface SupervisorConfig {
  dataDir: string;
  /** The web server's listen host (`HOST`). */
  host: string;
  /** Where a browser on this machine reaches the web server (`0.0.0.0` → loopback). */
  browserHost: string;
  /** Every process's port (its `portEnv`, else the default). */
  ports: Record<ProcessName, number>;
  /**
   * Where the supervisor checks each process: its `urlEnv`, else loopback and its port.
   * The web server's is always local (its `ROAMSIGN_URL` is how the bank sees it).
   */
  urls: Record<ProcessName, string>;
  /** The processes to start, in order (the bank left out with `HOST_BANK_URL=none`). */
  start: ProcessName[];
  /** The environment of every child: ours, plus every port and URL made explicit. */
  childEnv: Record<string, string>;
}

/** Reads the supervisor's configuration from `env` (default: the process environment). */
export function supervisorConfigFromEnv(
  env: Record<string, string> = Deno.env.toObject(),
): SupervisorConfig {
  const dataDir = env.DATA_DIR || "./data";
  const host = env.HOST || "127.0.0.1";
  const browserHost = host === "0.0.0.0" ? "127.0.0.1" : host;
  const ports = {} as Record<ProcessName, number>;
  const urls = {} as Record<ProcessName, string>;
  const childEnv: Record<string, string> = { ...env, DATA_DIR: dataDir, HOST: host };
  for (const spec of TOPOLOGY) {
    const port = Number(env[spec.portEnv] || spec.defaultPort);
    const local = localUrl(port, spec.name === "web" ? browserHost : "127.0.0.1");
    ports[spec.name] = port;
    urls[spec.name] = spec.name === "web" ? local : env[spec.urlEnv] || local;
    childEnv[spec.portEnv] = String(port);
    childEnv[spec.urlEnv] = env[spec.urlEnv] || local;
  }
  // The bank pins the CA the vault writes before it answers (the bank starts after it).
  childEnv.ROAMSIGN_CA_FILE = env.ROAMSIGN_CA_FILE || `${dataDir}/ca.pem`;
  const start = TOPOLOGY
    .filter((spec) => !(spec.optional && urls[spec.name] === "none"))
    .map((spec) => spec.name);
  return { dataDir, host, browserHost, ports, urls, start, childEnv };
}

/**
 * The URL to open: on loopback `http://localhost:PORT/`, since WebAuthn (passkeys) refuses
 * IP-address origins (docs/passkeys.md); otherwise the web server's own address.
 */
export function browserUrl(
  config: Pick<SupervisorConfig, "browserHost" | "ports" | "urls">,
): string {
  const loopback = config.browserHost === "127.0.0.1" || config.browserHost === "localhost" ||
    config.browserHost === "::1";
  return loopback ? `http://localhost:${config.ports.web}/` : `${config.urls.web}/`;
}
