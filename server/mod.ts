/**
 * The web server's public face: the hono app (applet delivery, session channel,
 * relays, directory) and the applet build (the child-process supervisor is
 * platform/child.ts). The process itself is `main.ts`; the
 * supervisor is `start.ts`.
 *
 * @module
 */
export { type AppDeps, createApp } from "./app.ts";
export { type VaultCaller, vaultCaller } from "./vault_caller.ts";
export {
  buildApplet,
  type BuildOptions,
  type BuildResult,
  defaultOutDir,
  type Manifest,
  type ManifestFile,
  sourceFingerprint,
} from "./build.ts";
export { MemorySessionStore, type SessionStore } from "./sessions.ts";
export { RedisSessionStore } from "./redis_sessions.ts";
export { SessionSealer } from "./session_keys.ts";
export { registerWebGauges } from "./operator.ts";
export { secureHeaders } from "./secure_headers.ts";
export {
  EXIT as VERIFY_APPLET_EXIT,
  formatVerdict,
  parseArgs as parseVerifyAppletArgs,
  UsageError as VerifyAppletUsageError,
  verifyApplet,
} from "./verify_applet.ts";
