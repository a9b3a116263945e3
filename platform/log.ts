/**
 * Structured logs: one JSON object per line on stdout. Callers pass only
 * non-secret fields; identities go through {@link identityTag}.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Log levels, lowest first. `LOG_LEVEL` (default `info`) drops lower ones. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const _RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * The threshold for `level`, else for `LOG_LEVEL`. The one environment read left in
 * platform/ besides the secrets' overrides: the vault and the web server do not pass
 * their level yet (their `config.ts` is theirs), and a line logged before a process has
 * read its configuration (a configuration error) must honour it too.
 */
function _threshold(level?: string): number {
  if (level === undefined) {
    try {
      level = Deno.env.get("LOG_LEVEL");
    } catch {
      level = undefined; // no env permission: default
    }
  }
  return _RANK[(level ?? "info") as LogLevel] ?? _RANK.info;
}

let _min = _threshold();
let _service = "roamsign";

/**
 * Sets the `service` field of every line and the lowest level written: `level` from the
 * process's configuration (`LOG_LEVEL`, read in its `config.ts`), else `LOG_LEVEL`.
 */
export function configureLog(service: string, level?: string): void {
  _service = service;
  _min = _threshold(level);
}

/** Writes one JSON log line: `{ ts, level, service, event, ...fields }`. */
export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  if (_RANK[level] < _min) return;
  const line = JSON.stringify({
    ts: new Date().toISOString(),
    level,
    service: _service,
    event,
    ...fields,
  });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}

/**
 * Writes a lifecycle line (`listening`, `ready`, …) whatever `LOG_LEVEL` says:
 * supervisors and test fixtures read these to learn ports and readiness.
 */
export function logLifecycle(event: string, fields: Record<string, unknown> = {}): void {
  console.log(
    JSON.stringify({
      ts: new Date().toISOString(),
      level: "info",
      service: _service,
      event,
      ...fields,
    }),
  );
}

/** The first 16 hex digits of SHA-256(identity): lets logs correlate without naming anyone. */
export async function identityTag(identity: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(identity));
  return Array.from(new Uint8Array(digest, 0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** {@link identityTag}, synchronously (server-side only: node:crypto). */
export function identityTagSync(identity: string): string {
  return createHash("sha256").update(identity).digest("hex").slice(0, 16);
}
