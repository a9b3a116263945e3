import { processSpec, TOPOLOGY } from "./topology.ts";
import { assert, assertEquals } from "../tests/fixtures/assert.ts";

Deno.test("TOPOLOGY starts every process after the processes it waits for", () => {
  const seen = new Set<string>();
  for (const spec of TOPOLOGY) {
    for (const dep of spec.after) assert(seen.has(dep), `${spec.name} starts before ${dep}`);
    seen.add(spec.name);
  }
  assertEquals(seen.size, TOPOLOGY.length);
});

Deno.test("TOPOLOGY: the bank starts before the web server (both anchors go into its applet)", () => {
  const order = TOPOLOGY.map((p) => p.name);
  assert(order.indexOf("host-bank") < order.indexOf("web"));
  assert(processSpec("web").certifyKeyFirst === true);
});

Deno.test("TOPOLOGY keeps the README's ports and variables", () => {
  const rows = TOPOLOGY.map((p) => [p.name, p.portEnv, p.defaultPort, p.urlEnv]);
  assertEquals(
    JSON.stringify(rows),
    JSON.stringify([
      ["key-vault", "VAULT_PORT", 8002, "VAULT_URL"],
      ["proxy", "PROXY_PORT", 8001, "PROXY_URL"],
      ["host-bank", "HOST_BANK_PORT", 8003, "HOST_BANK_URL"],
      ["web", "PORT", 8000, "ROAMSIGN_URL"],
    ]),
  );
});
