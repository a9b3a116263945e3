/** Applet-start entry for forgeRsa; bundled on its own by the lowpower suite. @module */
import { forgeRsa } from "../impls/forge.ts";
import { startWithAdapter } from "./common.ts";
import type { StartContext, StartResult } from "./common.ts";

export function start(ctx: StartContext): Promise<StartResult> {
  return startWithAdapter(forgeRsa, ctx);
}
