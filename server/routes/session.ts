/**
 * Session bootstrap (DESIGN.md §2 steps 1–3, docs/session-channel.md):
 * `GET /api/session` offers N(s), T(s), R(s) and both certificates (limited per
 * client address); `POST /api/session/key` takes the applet's KS(m,a) wrapped under
 * PUB(c,s) and derives the channel keys. KS lives in memory only, and only as long
 * as it takes to derive them; the session store keeps the direction keys (sealed under the
 * web-tier key when it is Redis, server/redis_sessions.ts).
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { ApiError, type ConfidentialityKey, unwrapKs } from "../../platform/mod.ts";
import { b64uDecode, KS_BYTES, ksLabel, wipe } from "../../protocol/mod.ts";
import type { AddressLimit } from "../address_limit.ts";
import type { IntegrityCert } from "../integrity_cert.ts";
import { noteRequest } from "../refusal_log.ts";
import type { SessionStore } from "../sessions.ts";
import { b64uChars, type ClientAddress, jsonBody, parseWith, sessionOf } from "./request.ts";

/** What the routes need. */
export interface SessionDeps {
  sessions: SessionStore;
  confidentiality: ConfidentialityKey;
  integrityCert: IntegrityCert;
  /** Per-address limit on opening sessions (docs/rate-limits.md); none if absent. */
  sessionLimit?: AddressLimit;
  clientAddress: ClientAddress;
}

const _keyBody = z.object({ sid: b64uChars(64), key: b64uChars(1400) }).strict();

/** The routes, to mount at `/api/session`. */
export function sessionRoutes(deps: SessionDeps): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    const client = deps.clientAddress(c);
    const wait = deps.sessionLimit?.hit(client) ?? 0;
    if (wait > 0) {
      throw new ApiError(429, "rate_limited", "too many new sessions from this address", {
        retryAfterMs: wait,
      });
    }
    const integrity = await deps.integrityCert(client);
    const { offer } = await deps.sessions.create(client);
    return c.json({
      ...offer,
      integrityCert: integrity,
      confidentialityCert: deps.confidentiality.certificate,
    });
  });

  app.post("/key", async (c) => {
    const body = parseWith(_keyBody, await jsonBody(c), "session key");
    const s = await sessionOf(deps.sessions, body.sid);
    noteRequest(c, { sid: s.sid });
    if (s.keys) throw new ApiError(409, "session_already_keyed", "this session already has KS");
    let wrapped: Uint8Array;
    try {
      wrapped = b64uDecode(body.key);
    } catch {
      throw new ApiError(400, "bad_request", "key is not base64url");
    }
    const ks = await unwrapKs(deps.confidentiality, wrapped, ksLabel(s.sid));
    if (ks === null || ks.length !== KS_BYTES) {
      wipe(ks);
      // One RSA decryption per session: a wrong KS ends the session, so the per-address
      // limit on new sessions also bounds the RSA work anyone can ask for.
      await deps.sessions.delete(s.sid);
      throw new ApiError(400, "bad_session_key", "KS did not decrypt under PUB(c,s)");
    }
    let keyed: boolean | "gone";
    try {
      keyed = await deps.sessions.setKeys(s, ks);
    } finally {
      wipe(ks);
    }
    if (keyed === "gone") throw new ApiError(401, "unknown_session", "no such session");
    if (!keyed) throw new ApiError(409, "session_already_keyed", "this session already has KS");
    return c.json({ status: "ready" });
  });
  return app;
}
