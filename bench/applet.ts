/**
 * Hook for the applet's built JavaScript, used by the weight table. The web server's
 * build (server/ issue) produces it; until then this returns null and the report says
 * "not built yet". Wire it in by returning the bytes of the applet bundle here (or set
 * ROAMSIGN_APPLET_JS to the path of a built bundle).
 *
 * @module
 */

export interface AppletBundle {
  js: Uint8Array;
  /** Where the bytes came from, shown in the report. */
  source: string;
}

export async function appletBundle(): Promise<AppletBundle | null> {
  const path = Deno.env.get("ROAMSIGN_APPLET_JS");
  if (path) return { js: await Deno.readFile(path), source: path };
  return null;
}
