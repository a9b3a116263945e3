/**
 * The process topology of a roamsign installation, written once: which processes
 * there are, their entry files, the environment variables that carry their port and
 * their URL, their health path, and in which order they start. The supervisor
 * (`server/start.ts`), the test fixture (`harness/stack.ts`) and the load
 * benchmark (`bench/load.ts`) all read this table.
 *
 * Start order ({@link TOPOLOGY} is in it; `after` says why):
 *
 *   1. key-vault: owns the database and the CA; writes `DATA_DIR/ca.pem` and its trust
 *      anchor (`DATA_DIR/anchors/`).
 *   2. proxy: the fire-wall in front of the vault (`VAULT_URL`).
 *   3. host-bank (optional, `HOST_BANK_URL=none` leaves it out): pins the vault's
 *      `ca.pem`, and publishes its own trust anchor.
 *   4. web: its applet build compiles in the anchors of the vault *and* the bank, so it
 *      starts after both; just before it starts, the CA certifies its confidentiality
 *      key through the proxy with the operator's credential (`certifyKeyFirst`,
 *      `provisionConfidentialityKey`, docs/trust-anchors.md).
 *
 * The bank's directory (`ROAMSIGN_URL`) is the web server, which starts after it: the
 * bank is alive (`/healthz`) without it and only *ready* (`/readyz`) once it answers.
 *
 * Ports and variables are the README's; each process reads them in its own `config.ts`.
 *
 * @module
 */

/** The name of a roamsign process (also its `service` in logs). */
export type ProcessName = "key-vault" | "proxy" | "host-bank" | "web";

/** One row of the topology. */
export interface ProcessSpec {
  readonly name: ProcessName;
  /** Entry file, relative to the repository root (`deno run -A <entry>`). */
  readonly entry: string;
  /** The variable with the port it listens on, and its default. */
  readonly portEnv: string;
  readonly defaultPort: number;
  /** The variable that tells other processes where to find it (default: loopback and port). */
  readonly urlEnv: string;
  /** Answers 2xx once the process is alive; supervisors poll it before starting the next. */
  readonly healthPath: string;
  /** Processes that must be healthy before this one starts (the reason in the module doc). */
  readonly after: readonly ProcessName[];
  /** Processes whose URL (their `urlEnv`) it is given. */
  readonly calls: readonly ProcessName[];
  /** May be left out (its `urlEnv` set to `none`). */
  readonly optional?: boolean;
  /** The CA must certify its confidentiality key just before it starts. */
  readonly certifyKeyFirst?: boolean;
}

/** Every process, in start order. */
export const TOPOLOGY: readonly ProcessSpec[] = [
  {
    name: "key-vault",
    entry: "key-vault/main.ts",
    portEnv: "VAULT_PORT",
    defaultPort: 8002,
    urlEnv: "VAULT_URL",
    healthPath: "/healthz",
    after: [],
    calls: [],
  },
  {
    name: "proxy",
    entry: "proxy/main.ts",
    portEnv: "PROXY_PORT",
    defaultPort: 8001,
    urlEnv: "PROXY_URL",
    healthPath: "/healthz",
    after: ["key-vault"],
    calls: ["key-vault"],
  },
  {
    name: "host-bank",
    entry: "examples/host-bank/main.ts",
    portEnv: "HOST_BANK_PORT",
    defaultPort: 8003,
    urlEnv: "HOST_BANK_URL",
    healthPath: "/healthz",
    // It pins the CA certificate the vault writes at start (ROAMSIGN_CA_FILE).
    after: ["key-vault"],
    calls: ["web"],
    optional: true,
  },
  {
    name: "web",
    entry: "server/main.ts",
    portEnv: "PORT",
    defaultPort: 8000,
    urlEnv: "ROAMSIGN_URL",
    healthPath: "/healthz",
    // The proxy certifies its key; the vault's and the bank's anchors go into its applet.
    after: ["key-vault", "proxy", "host-bank"],
    calls: ["proxy", "host-bank"],
    certifyKeyFirst: true,
  },
];

/** The row of one process. */
export function processSpec(name: ProcessName): ProcessSpec {
  const spec = TOPOLOGY.find((p) => p.name === name);
  if (!spec) throw new Error(`topology: no process ${name}`);
  return spec;
}

/** `http://<host>:<port>`, the URL of a process on this machine. */
export function localUrl(port: number, host = "127.0.0.1"): string {
  return `http://${host}:${port}`;
}

/** The URL to poll for a process at `baseUrl` (`…/healthz`). */
export function healthUrl(spec: ProcessSpec, baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${spec.healthPath}`;
}
