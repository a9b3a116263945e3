/**
 * The demo bank fails closed without a pinned roamsign CA (docs/host-bank.md): given
 * only a directory URL, it would trust whatever `/ca.pem` that server first answers —
 * a directory (or anyone on the path to it) could then make the bank accept signatures
 * under certificates of its own making. `deno task start` and the test stacks pin the
 * CA the vault writes to `DATA_DIR/ca.pem`.
 */
import { spawnChild } from "../../platform/mod.ts";
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { startStack } from "../../harness/mod.ts";
import { makeTestCa } from "../fixtures/test_ca.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test({
  name: "the bank refuses to start without ROAMSIGN_CA_FILE rather than trust a fetched CA",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // A directory that serves a CA of its own making.
    const rogue = await makeTestCa();
    const directory = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) =>
        new URL(req.url).pathname === "/ca.pem"
          ? new Response(rogue.pem)
          : new Response("not found", { status: 404 }),
    );
    const dataDir = await Deno.makeTempDir({ prefix: "roamsign-bank-ca-" });
    const bank = spawnChild({
      name: "host-bank",
      script: `${ROOT}examples/host-bank/main.ts`,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? "/tmp",
        DATA_DIR: dataDir,
        HOST_BANK_PORT: "0",
        ROAMSIGN_URL: `http://127.0.0.1:${directory.addr.port}`,
      },
      cwd: ROOT,
    });
    try {
      // `listening` rejects when the process exits first.
      const first = await bank.listening.then(
        (port) => ({ port, code: undefined as number | undefined }),
        async () => ({ port: undefined, code: (await bank.exited).code }),
      );
      let ready = "";
      if (first.port) {
        const r = await fetch(`http://127.0.0.1:${first.port}/readyz`);
        ready = await r.text();
      }
      assertEquals(first.code, 1, `the bank started and trusts the fetched CA: ${ready}`);
      assertOk(
        bank.lines.some((l) => l.includes("ROAMSIGN_CA_FILE")),
        `a clear error naming ROAMSIGN_CA_FILE:\n${bank.lines.join("\n")}`,
      );
    } finally {
      await bank.stop();
      await directory.shutdown();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "the vault writes its CA to DATA_DIR/ca.pem and the stack's bank pins it",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const stack = await startStack({ host: true });
    try {
      const pem = await Deno.readTextFile(`${stack.dataDir}/ca.pem`);
      const { certificate } = await stack.webClient().call("ca.get", {}, {
        clientAddress: "198.51.100.7",
      }) as { certificate: string };
      assertEquals(pem.trim(), certificate.trim());
      const ready = await fetch(`${stack.hostUrl}/readyz`);
      assertOk(ready.ok, await ready.text());
    } finally {
      await stack.stop();
    }
  },
});
