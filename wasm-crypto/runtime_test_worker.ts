/**
 * Test worker for runtime_test.ts: a fresh module instance, as in the applet's
 * worker, to check what happens before initialisation and after zeroizeMemory().
 */
import {
  generateRsaKey,
  initWasmCrypto,
  sha256,
  signPkcs1v15,
  verifyPkcs1v15,
  WasmCryptoError,
  zeroizeMemory,
} from "./mod.ts";
import { mem } from "./runtime.ts";

function code(f: () => unknown): string {
  try {
    f();
    return "no error";
  } catch (e) {
    return e instanceof WasmCryptoError ? e.code : `other: ${e}`;
  }
}

// deno-lint-ignore no-explicit-any
const self_ = self as any;
self_.onmessage = async (ev: MessageEvent) => {
  const source = ev.data.source;
  const result: Record<string, unknown> = {};
  result.beforeInit = code(() => sha256(new Uint8Array(1)));
  result.keygenBeforeInit = code(() => generateRsaKey(2048));
  await initWasmCrypto(source === "default" ? undefined : source);
  await initWasmCrypto(); // a second call does nothing
  const msg = new Uint8Array([1, 2, 3]);
  const key = generateRsaKey(2048);
  const sig = signPkcs1v15(key, "SHA-256", msg);
  result.works = verifyPkcs1v15(key.publicKey, "SHA-256", msg, sig);
  const memory = mem();
  result.nonZeroBefore = memory.some((b) => b !== 0);
  zeroizeMemory();
  result.allZeroAfter = memory.every((b) => b === 0);
  result.memoryBytes = memory.length;
  result.keyAfterZeroize = code(() => signPkcs1v15(key, "SHA-256", msg));
  result.destroyedFlag = key.destroyed;
  result.shaAfterZeroize = code(() => sha256(msg));
  result.verifyAfterZeroize = code(() => verifyPkcs1v15(key.publicKey, "SHA-256", msg, sig));
  await initWasmCrypto(source === "default" ? undefined : source);
  result.verifyAfterReinit = verifyPkcs1v15(key.publicKey, "SHA-256", msg, sig);
  result.keyAfterReinit = code(() => signPkcs1v15(key, "SHA-256", msg));
  self_.postMessage(result);
};
