/// <reference lib="webworker" />
/**
 * Entry of the strength bundle (server/build.ts, `entries.strength`): a dedicated worker
 * that the page starts from SRI-checked bytes only when a new pass phrase is being chosen
 * (`mod.ts`), and that answers {@link StrengthCommand}s with the checker of `strength.ts`.
 * It holds no key and sends nothing anywhere; the page terminates it when the phrase has
 * been taken, after a minute unused, and on `pagehide`.
 *
 * @module
 */
import { fromUtf8, utf8, wipe } from "../../protocol/mod.ts";
import { createStrengthChecker, type StrengthChecker } from "./strength.ts";
import type { StrengthCommand, StrengthReply } from "./strength_api.ts";

let _checker: StrengthChecker | null = null;

function _answer(c: StrengthCommand): { reply: StrengthReply; transfer: Transferable[] } {
  _checker ??= createStrengthChecker();
  if (c.type === "assess") {
    try {
      const verdict = _checker.assess(fromUtf8(c.phrase), c.userInputs);
      return { reply: { id: c.id, ok: true, verdict }, transfer: [] };
    } finally {
      wipe(c.phrase);
    }
  }
  const phrase = utf8(_checker.suggest());
  return { reply: { id: c.id, ok: true, phrase }, transfer: [phrase.buffer] };
}

self.onmessage = (e: MessageEvent<StrengthCommand>) => {
  const c = e.data;
  try {
    const { reply, transfer } = _answer(c);
    self.postMessage(reply, transfer);
  } catch (err) {
    const message = err instanceof Error ? err.message : "strength check failed";
    self.postMessage({ id: c.id, ok: false, message } satisfies StrengthReply);
  }
};
