/**
 * Start of the real applet's worker (web server issue): create the worker from its
 * built bundle and send it `init`, which fetches the manifest, fetches the wasm, checks
 * its SHA-256, instantiates wasm-crypto and readies the OPAQUE client. The first
 * signature needs a sign-in against a running server (see tests/e2e/measure.ts), so
 * this start ends at "worker ready"; the worker is then wiped and terminated.
 *
 * @module
 */
import type { StartContext, StartResult } from "./common.ts";

type Reply = { id: number; ok: true; result: unknown } | {
  id: number;
  ok: false;
  error: { code: string; message: string };
};

function _ask(
  worker: Worker,
  message: { id: number; type: string },
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<Reply>) => {
      if (e.data.id !== message.id || !("ok" in e.data)) return;
      if (e.data.ok) resolve(e.data.result);
      else reject(new Error(`applet worker: ${e.data.error.code}: ${e.data.error.message}`));
    };
    worker.onerror = (e) => reject(new Error(`applet worker: ${e.message}`));
    worker.postMessage(message);
  });
}

export async function start(ctx: StartContext): Promise<StartResult> {
  const workerUrl = ctx.extra?.workerUrl;
  if (!workerUrl) throw new Error("applet start: no worker URL");
  const t0 = performance.now();
  const worker = new Worker(workerUrl, { type: "module", name: "roamsign-applet" });
  try {
    await _ask(worker, { id: 1, type: "init" });
    const t1 = performance.now();
    await _ask(worker, { id: 2, type: "wipe" });
    return { phases: { workerReady: t1 - t0 } };
  } finally {
    worker.terminate();
  }
}
