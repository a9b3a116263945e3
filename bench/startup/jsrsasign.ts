/** Applet-start entry for jsrsasignRsa; bundled on its own by the lowpower suite. @module */
import { jsrsasignRsa } from "../impls/jsrsasign.ts";
import { startWithAdapter } from "./common.ts";
import type { StartContext, StartResult } from "./common.ts";

export function start(ctx: StartContext): Promise<StartResult> {
  return startWithAdapter(jsrsasignRsa, ctx);
}
