/**
 * `deno task start` (server/start.ts) as a real process: creates the secrets, runs
 * vault, proxy, web server and the demo bank (its keys 0600), whose log lines reach the
 * supervisor's stdout, restarts a crashed child, stops everything on SIGTERM.
 */
import { spawnChild } from "../../platform/mod.ts";
import { assert } from "../fixtures/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("[slow] deno task start runs, heals and stops vault, proxy, web server and bank", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "roamsign-start-" });
  const ports = { web: freePort(), proxy: freePort(), vault: freePort(), bank: freePort() };
  const supervisor = spawnChild({
    name: "start",
    script: `${ROOT}server/start.ts`,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      DATA_DIR: dataDir,
      PORT: String(ports.web),
      PROXY_PORT: String(ports.proxy),
      VAULT_PORT: String(ports.vault),
      HOST_BANK_PORT: String(ports.bank),
    },
    cwd: ROOT,
  });
  try {
    await supervisor.waitForLine((j) => j.event === "ready");
    assert(
      // localhost, not 127.0.0.1: WebAuthn (passkeys) refuses IP-address origins.
      supervisor.lines.some((l) => l.includes(`http://localhost:${ports.web}/`)),
      "prints the localhost URL",
    );
    // The children write their log lines to the supervisor's stdout themselves (inherited
    // descriptors, nothing relayed): each one's `listening` line is on it.
    for (const service of ["key-vault", "proxy", "host-bank", "web"]) {
      await supervisor.waitForLine((j) => j.event === "listening" && j.service === service, 5_000);
    }
    for (
      const name of ["web-proxy.key", "admin-proxy.key", "proxy-vault.key", "vault-master.key"]
    ) {
      const info = await Deno.stat(`${dataDir}/secrets/${name}`);
      assert((info.mode! & 0o777) === 0o600, `${name} mode ${(info.mode! & 0o777).toString(8)}`);
    }
    for (const name of ["integrity-key.pem", "confidentiality-key.pem", "ledger.json"]) {
      const info = await Deno.stat(`${dataDir}/host-bank/${name}`);
      assert((info.mode! & 0o777) === 0o600, `${name} mode ${(info.mode! & 0o777).toString(8)}`);
    }
    const bankKeys = await (await fetch(`http://127.0.0.1:${ports.web}/api/host`)).json();
    assert(bankKeys.name === "bank" && bankKeys.integrityCert.includes("BEGIN CERTIFICATE"));
    for (const port of Object.values(ports)) {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert(res.ok, `port ${port}`);
      await res.body?.cancel();
    }
    const started = await supervisor.waitForLine((j) =>
      j.event === "child_started" && j.child === "key-vault"
    );
    Deno.kill(started.pid as number, "SIGKILL");
    await supervisor.waitForLine((j) => j.event === "child_restarted" && j.child === "key-vault");
    const res = await fetch(`http://127.0.0.1:${ports.vault}/healthz`);
    assert(res.ok);
    await res.body?.cancel();

    await supervisor.stop(20_000);
    const status = await supervisor.exited;
    assert(status.code === 0, `exit ${status.code}`);
    for (const port of Object.values(ports)) {
      const closed = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => (r.body?.cancel(), false),
        () => true,
      );
      assert(closed, `port ${port} still answers after stop`);
    }
  } finally {
    await supervisor.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
