import { createProxyClient } from "../platform/mod.ts";
import { ApiError } from "../platform/mod.ts";
import { importHmacKey } from "../platform/mod.ts";
import { createProxyApp } from "./server.ts";

function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

Deno.test("proxy: a vault that does not answer in time → 504 vault_timeout; one that does → its answer", async () => {
  let hold = true;
  const vault = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    if (hold) await new Promise((r) => setTimeout(r, 1_500));
    return Response.json({ ca: "ok" });
  });
  const webRaw = crypto.getRandomValues(new Uint8Array(32));
  const app = createProxyApp({
    vaultUrl: `http://127.0.0.1:${vault.addr.port}`,
    callerKeys: { web: await importHmacKey(webRaw) },
    vaultKey: await importHmacKey(crypto.getRandomValues(new Uint8Array(32))),
    timeoutMs: 300,
  });
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  try {
    const web = createProxyClient({
      url: `http://127.0.0.1:${proxy.addr.port}`,
      keyId: "web",
      secret: webRaw,
    });
    let code = "ok";
    let status = 0;
    try {
      await web.call("ca.get", {});
    } catch (err) {
      assert(err instanceof ApiError, String(err));
      code = err.code;
      status = err.status;
    }
    assert(code === "vault_timeout" && status === 504, `${status} ${code}`);
    hold = false;
    assert((await web.call("ca.get", {}) as { ca: string }).ca === "ok");
  } finally {
    await proxy.shutdown();
    await vault.shutdown();
  }
});
