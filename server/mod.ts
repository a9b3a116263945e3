/**
 * The web server's public face: the hono app (applet delivery, session channel,
 * relays, directory), the applet build, and the child-process supervisor used by
 * `deno task start` and the tests. The process itself is `main.ts`; the
 * supervisor is `start.ts`.
 *
 * @module
 */
export { type AppDeps, createApp, type VaultCaller } from "./app.ts";
export { vaultCaller } from "./main.ts";
export {
  buildApplet,
  type BuildOptions,
  type BuildResult,
  defaultOutDir,
  type Manifest,
  type ManifestFile,
  sourceFingerprint,
} from "./build.ts";
export { type Child, type ChildSpec, spawnChild, waitHealthy } from "../platform/child.ts";
export { secureHeaders } from "./secure_headers.ts";
