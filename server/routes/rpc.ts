/**
 * `POST /api/rpc`, the KS(m,a) channel (docs/session-channel.md): `{ sid, seq, iv, ct }`
 * under the session's c2s key, in sequence, one at a time; the plaintext is
 * `{ op, ts, args }`, dispatched through the one table of server/routes/operations.ts,
 * and the answer is sealed under the s2c key. Errors are the plain envelope; a refusal of
 * a request that was opened also carries its `ack` (docs/session-channel.md "Sequence
 * numbers after a refusal").
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "zod";
import { ApiError } from "../../platform/mod.ts";
import {
  ChannelError,
  type ChannelKeys,
  fromUtf8,
  MAX_CLOCK_SKEW_MS,
  open,
  RPC_BODY_MAX_BYTES,
  seal,
  type Sealed,
  sealRefusal,
  utf8,
  wipe,
} from "../../protocol/mod.ts";
import type { HostRelay } from "../host_relay.ts";
import { noteRequest } from "../refusal_log.ts";
import type { Acceptance, ServerSession, SessionStore } from "../sessions.ts";
import type { VaultCaller } from "../vault_caller.ts";
import { operation } from "./operations.ts";
import { b64uChars, type ClientAddress, jsonBody, parseWith, sessionOf } from "./request.ts";

/** What the route needs. */
export interface RpcDeps {
  vault: VaultCaller;
  sessions: SessionStore;
  host?: HostRelay;
  clientAddress: ClientAddress;
  now: () => number;
}

const _envelope = z.object({
  sid: b64uChars(64),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  iv: b64uChars(64),
  // The body limit (server/app.ts) is what bounds it: one size refusal, `body_too_large`.
  ct: b64uChars(RPC_BODY_MAX_BYTES),
}).strict();

const _request = z.object({
  op: z.string().max(64),
  ts: z.number().int(),
  args: z.record(z.string(), z.unknown()),
}).strict();

/** The route, to mount at `/api/rpc`. */
export function rpcRoutes(deps: RpcDeps): Hono {
  const app = new Hono();
  app.post("/", async (c) => {
    const env = parseWith(_envelope, await jsonBody(c), "rpc");
    const s = await sessionOf(deps.sessions, env.sid);
    noteRequest(c, { sid: s.sid, identity: s.identity });
    if (!s.keys) throw new ApiError(409, "session_not_keyed", "send KS before requests");
    _refuse(_precheck(s, env.seq)); // from what was looked up: no decryption for a stale copy
    const plaintext = await _open(s.keys, s, env);
    try {
      // Authentic. Taking its number is one atomic step of the store: of two copies of this
      // request (on this web server or another), one is accepted, the other refused here.
      _refuse(await deps.sessions.accept(s, env.seq));
      // The number is used up whatever happens next, and the answer says so under the s2c
      // key: a sealed result, or a refusal with its `ack`.
      return c.json(await _answered(c, deps, s, s.keys, env.seq, plaintext));
    } finally {
      wipe(plaintext);
    }
  });
  return app;
}

/** What the session as looked up says about `seq` (the store's `accept` decides). */
function _precheck(s: ServerSession, seq: number): Acceptance {
  if (seq <= s.lastSeq) return "replayed";
  if (seq !== s.lastSeq + 1) return "out_of_order";
  if (s.busy) return "in_flight";
  return "accepted";
}

/** Throws the refusal of a sequence number that was not accepted. */
function _refuse(verdict: Acceptance): void {
  switch (verdict) {
    case "accepted":
      return;
    case "replayed":
      throw new ApiError(409, "replayed_request", "sequence number reused");
    case "out_of_order":
      throw new ApiError(409, "out_of_order", "sequence number skipped");
    case "in_flight":
      throw new ApiError(409, "request_in_flight", "wait for the previous answer");
    case "gone":
      throw new ApiError(401, "unknown_session", "no such session");
  }
}

/**
 * The accepted request answered: the sealed result once what the operation changed is
 * stored (or the session deleted), else the refusal with its `ack`.
 */
async function _answered(
  c: Context,
  deps: RpcDeps,
  s: ServerSession,
  keys: ChannelKeys,
  seq: number,
  plaintext: Uint8Array,
): Promise<Sealed> {
  let released = false;
  try {
    const { sealed, ends } = await _answer(c, deps, s, keys, seq, plaintext);
    released = true;
    if (ends) await deps.sessions.delete(s.sid);
    else await deps.sessions.release(s);
    return sealed;
  } catch (err) {
    // What the operation changed before it failed (a login.start that cleared the signed-in
    // identity) is kept, as in one process; best effort: the refusal is what matters here.
    if (!released) await deps.sessions.release(s).catch(() => {});
    throw await _acknowledged(err, s, keys, seq);
  }
}

/** The request's plaintext; 400 `bad_ciphertext` if it does not authenticate. */
async function _open(keys: ChannelKeys, s: ServerSession, env: Sealed): Promise<Uint8Array> {
  try {
    return await open(keys.c2s, "c2s", s.binding, env);
  } catch (err) {
    if (err instanceof ChannelError) {
      throw new ApiError(400, "bad_ciphertext", "request does not authenticate");
    }
    throw err;
  }
}

/**
 * A refusal of an opened request, with the `ack` that proves `seq` used up
 * (protocol/channel.ts `sealRefusal`). Anything but an {@link ApiError} stays as it is
 * (a 500 without detail): the client then learns the number from `replayed_request`.
 */
async function _acknowledged(
  err: unknown,
  s: ServerSession,
  keys: ChannelKeys,
  seq: number,
): Promise<unknown> {
  if (!(err instanceof ApiError)) return err;
  const ack = await sealRefusal(keys.s2c, s.binding, seq, err.code);
  return new ApiError<string>(err.status, err.code, err.message, { ...err.details, ack });
}

/** Parses, checks and dispatches the request; the sealed answer, and whether it ends the session. */
async function _answer(
  c: Context,
  deps: RpcDeps,
  s: ServerSession,
  keys: ChannelKeys,
  seq: number,
  plaintext: Uint8Array,
): Promise<{ sealed: Sealed; ends: boolean }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(plaintext));
  } catch {
    throw new ApiError(400, "bad_json", "request plaintext is not JSON");
  }
  const req = parseWith(_request, parsed, "request");
  const op = operation(req.op);
  noteRequest(c, { op: op ? req.op : "(unknown)" });
  if (Math.abs(req.ts - deps.now()) > MAX_CLOCK_SKEW_MS) {
    throw new ApiError(400, "stale_request", "request timestamp too far from the server clock");
  }
  if (!op) throw new ApiError(400, "unknown_op", "no such operation");
  const args = parseWith(op.schema, req.args, req.op);
  const client = deps.clientAddress(c);
  const result = await op.handler({
    session: s,
    seq,
    vault: (name, body) => deps.vault.call(name, body, client),
    host: deps.host,
  }, args);
  const answer = utf8(JSON.stringify(result));
  const sealed = await seal(keys.s2c, "s2c", s.binding, seq, answer);
  wipe(answer);
  return { sealed, ends: op.endsSession === true };
}
