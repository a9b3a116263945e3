/**
 * What the web server's routes share about a request: its client address, its JSON
 * body, a schema check that refuses in plain words with a stable code, and the session it
 * names.
 *
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import { ApiError, B64U_PATTERN } from "../../platform/mod.ts";
import type { ServerSession, SessionStore } from "../sessions.ts";
import { schemaRefusal } from "./schema_refusal.ts";

/** The end user's address of a request (server/client_address.ts `clientAddressOf`). */
export type ClientAddress = (c: Context) => string;

/**
 * base64url text of at most `max` **characters**. platform/ops.ts `b64u(n)` counts
 * bytes (and has a minimum); the web server's limits are in characters, docs/architecture.md
 * "The web server's operation schemas".
 */
export function b64uChars(max: number) {
  return z.string().max(max).regex(B64U_PATTERN, "expected base64url");
}

/** The body as JSON; 415 unless `application/json`, 400 `bad_json` if it does not parse. */
export async function jsonBody(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "expected application/json");
  }
  try {
    return await c.req.json();
  } catch {
    throw new ApiError(400, "bad_json", "body is not JSON");
  }
}

/**
 * `value` parsed by `schema`; its first issue refused in plain words with a stable code
 * (server/routes/schema_refusal.ts: `bad_request`, or the typed field's own code).
 */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what: string,
): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw schemaRefusal(what, r.error.issues[0]);
  return r.data;
}

/**
 * The live session `sid`; 401 `unknown_session` or `session_expired` (503
 * `session_store_unavailable` when the shared store cannot be reached).
 */
export async function sessionOf(store: SessionStore, sid: string): Promise<ServerSession> {
  const s = await store.lookup(sid);
  if (s === "unknown") throw new ApiError(401, "unknown_session", "no such session");
  if (s === "expired") {
    throw new ApiError(401, "session_expired", "session expired; start a new one");
  }
  return s;
}
