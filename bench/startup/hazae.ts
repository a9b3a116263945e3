/** Applet-start entry for hazaeRsa; bundled on its own by the lowpower suite. @module */
import { hazaeRsa } from "../impls/hazae.ts";
import { startWithAdapter } from "./common.ts";
import type { StartContext, StartResult } from "./common.ts";

export function start(ctx: StartContext): Promise<StartResult> {
  return startWithAdapter(hazaeRsa, ctx);
}
