/** Applet-start entry for webCryptoRsa; bundled on its own by the lowpower suite. @module */
import { webCryptoRsa } from "../impls/webcrypto.ts";
import { startWithAdapter } from "./common.ts";
import type { StartContext, StartResult } from "./common.ts";

export function start(ctx: StartContext): Promise<StartResult> {
  return startWithAdapter(webCryptoRsa, ctx);
}
