/** Applet-start entry for microRsa; bundled on its own by the lowpower suite. @module */
import { microRsa } from "../impls/micro.ts";
import { startWithAdapter } from "./common.ts";
import type { StartContext, StartResult } from "./common.ts";

export function start(ctx: StartContext): Promise<StartResult> {
  return startWithAdapter(microRsa, ctx);
}
