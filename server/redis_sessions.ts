/**
 * Sessions in Redis (`REDIS_URL`), shared by every web server behind a load balancer
 * without affinity (docs/operations.md "Several web servers"), through node-redis
 * (`@redis/client`).
 *
 * Per session, two keys with the same hash tag (one Cluster slot):
 *
 * - `roamsign:session:{sid}`, a hash: `n` N(s), `t` T(s), `c` created at, `a` client
 *   address, `q` the last accepted sequence number, `k` the direction keys sealed under the
 *   web-tier key, `u` the user state sealed likewise (server/session_keys.ts). Its TTL is
 *   the limit it lives under: 60 s until KS arrives, then the idle limit (10 min), reset by
 *   every accepted request, never past the absolute limit.
 * - `roamsign:busy:{sid}`: the lease of the request being handled (`SET NX PX`, 30 s, the
 *   longest a request may take: the vault's and the bank's timeouts are 10 s).
 *
 * Every change is one Lua script (atomic in Redis): a sequence number is taken by exactly
 * one web server however many receive the same sealed request. Every request reads or
 * writes its own keys only: no `SCAN`, no `KEYS`. The hot path is `HGETALL`, then one
 * script to accept, one to release; the unsealed, imported direction keys are cached per
 * sid in this process.
 *
 * Redis down or slow (1 s per command): `503 session_store_unavailable`, at once, never a
 * hang (no offline queue). Redis restarted empty: the sessions are gone, the next request
 * hears `401 unknown_session`, and the applet says the session ended.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createClient } from "@redis/client";
import { log, sessionStoreSeconds } from "../platform/mod.ts";
import {
  b64uDecode,
  b64uEncode,
  type ChannelKeys,
  deriveChannelKeyBytes,
  importChannelKeys,
  randomBytes,
  wipe,
} from "../protocol/mod.ts";
import { SealError, type SessionSealer } from "./session_keys.ts";
import {
  type Acceptance,
  type CreatedSession,
  DEFAULT_OPTIONS,
  newSession,
  type ServerSession,
  type SessionStore,
  type SessionStoreOptions,
  storeUnavailable,
  type UserState,
  userStateOf,
} from "./sessions.ts";

/** How to reach Redis and how long things may take. */
export interface RedisSessionOptions extends Partial<SessionStoreOptions> {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…`. */
  url: string;
  sealer: SessionSealer;
  /** A command without an answer after this long fails (default 1 000 ms). */
  timeoutMs?: number;
  /** How long a request may hold its session (default 30 000 ms). */
  leaseMs?: number;
  /** How many sessions' imported keys this process caches (default 10 000). */
  cacheSize?: number;
}

/** A Lua script and its SHA-1 (EVALSHA, EVAL after a Redis restart forgot it). */
interface Script {
  lua: string;
  sha: string;
}

function _script(lua: string): Script {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

/** KEYS: session. ARGV: nonce, time, createdAt, client, ttl. */
const _CREATE = _script(`
redis.call('HSET', KEYS[1], 'n', ARGV[1], 't', ARGV[2], 'c', ARGV[3], 'a', ARGV[4], 'q', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`);

/** KEYS: session. ARGV: sealed keys, ttl. 0: gone, 1: keyed before, 2: keyed now. */
const _KEY = _script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'k', ARGV[1]) == 0 then return 1 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 2`);

/** KEYS: session, busy. ARGV: seq, lease token, lease ms, ttl. */
const _ACCEPT = _script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local last = tonumber(redis.call('HGET', KEYS[1], 'q') or '0')
local seq = tonumber(ARGV[1])
if seq <= last then return 'replayed' end
if seq ~= last + 1 then return 'out_of_order' end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return 'in_flight' end
redis.call('HSET', KEYS[1], 'q', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 'accepted'`);

/** KEYS: session, busy. ARGV: lease token, sealed state or '', ttl. */
const _RELEASE = _script(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'u', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`);

/** What this store uses of a node-redis client. */
interface _Client {
  sendCommand(args: string[]): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
}

/** Sessions shared through Redis. */
export class RedisSessionStore implements SessionStore {
  readonly options: SessionStoreOptions;
  readonly kind = "redis";
  readonly #client: _Client;
  readonly #sealer: SessionSealer;
  readonly #leaseMs: number;
  readonly #cacheSize: number;
  /** sid → its imported keys and the sealed value they came from. */
  readonly #keys = new Map<string, { sealed: string; keys: ChannelKeys }>();
  #down = false;

  private constructor(client: _Client, options: RedisSessionOptions) {
    const given = Object.entries(options).filter(([k, v]) =>
      v !== undefined && k in DEFAULT_OPTIONS
    );
    this.options = { ...DEFAULT_OPTIONS, ...Object.fromEntries(given) };
    this.#client = client;
    this.#sealer = options.sealer;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#cacheSize = options.cacheSize ?? 10_000;
  }

  /**
   * Connects (in the background: a web server starts while Redis is down and answers
   * `session_store_unavailable` until it is up) and returns the store.
   */
  static open(options: RedisSessionOptions): RedisSessionStore {
    const client = createClient({
      url: options.url,
      // Commands while disconnected fail at once instead of waiting in a queue.
      disableOfflineQueue: true,
      commandOptions: { timeout: options.timeoutMs ?? 1_000, rejectInFlight: true },
      socket: {
        connectTimeout: options.timeoutMs ?? 1_000,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000),
      },
    });
    const store = new RedisSessionStore(client as unknown as _Client, options);
    client.on("error", (err: unknown) => store.#noteDown(err));
    client.on("ready", () => {
      if (store.#down) log("info", "session_store_up", {});
      store.#down = false;
    });
    client.connect().catch((err: unknown) => store.#noteDown(err));
    return store;
  }

  /** Sessions whose imported keys this process caches. */
  get size(): number {
    return this.#keys.size;
  }

  async create(client: string): Promise<CreatedSession> {
    const now = this.options.now();
    const created = newSession(client, now);
    const { session, offer } = created;
    await this.#eval("create", _CREATE, [_sessionKey(session.sid)], [
      offer.nonce,
      String(now),
      String(now),
      client,
      String(this.options.keyWithinMs),
    ]);
    session.seed = null; // only the offer carries R(s)
    session.storedState = _stateJson(session);
    return created;
  }

  async lookup(sid: string): Promise<ServerSession | "unknown" | "expired"> {
    const raw = await this.#run(
      "lookup",
      () => this.#client.sendCommand(["HGETALL", _sessionKey(sid)]),
    );
    const h = _fields(raw);
    if (h.n === undefined) {
      this.#keys.delete(sid);
      return "unknown";
    }
    const now = this.options.now();
    const createdAt = Number(h.c);
    if (now - createdAt > this.options.maxAgeMs) {
      await this.delete(sid);
      return "expired";
    }
    try {
      const state = h.u ? await this.#sealer.openState(sid, h.u) : _noUser();
      const keys = h.k ? await this.#keysOf(sid, h.k) : null;
      return {
        sid,
        binding: { sid: b64uDecode(sid), nonce: b64uDecode(h.n), time: Number(h.t) },
        seed: null,
        createdAt,
        lastSeen: now,
        keys,
        lastSeq: Number(h.q ?? 0),
        busy: false,
        client: h.a ?? "",
        ...state,
        storedState: _stateJson(state),
      };
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      // Another web-tier key (a misconfigured server) or a tampered value: loud, and no 500.
      log("error", "session_unsealable", { error: err.message });
      throw storeUnavailable();
    }
  }

  async setKeys(s: ServerSession, ks: Uint8Array): Promise<boolean | "gone"> {
    if (s.keys) return false;
    const bytes = await deriveChannelKeyBytes(ks, s.binding);
    try {
      const sealed = await this.#sealer.sealKeys(s.sid, bytes);
      const r = await this.#eval("key", _KEY, [_sessionKey(s.sid)], [sealed, String(this.#ttl(s))]);
      if (r === 0) return "gone";
      if (r === 1) return false;
      s.keys = await importChannelKeys(bytes);
      this.#cache(s.sid, sealed, s.keys);
      s.seed = null;
      return true;
    } finally {
      wipe(bytes.c2s, bytes.s2c);
    }
  }

  async accept(s: ServerSession, seq: number): Promise<Acceptance> {
    const token = b64uEncode(randomBytes(16));
    const verdict = await this.#eval("accept", _ACCEPT, [_sessionKey(s.sid), _busyKey(s.sid)], [
      String(seq),
      token,
      String(this.#leaseMs),
      String(this.#ttl(s)),
    ]);
    if (verdict !== "accepted") return verdict as Acceptance;
    s.lease = token;
    s.lastSeq = seq;
    s.busy = true;
    return "accepted";
  }

  async release(s: ServerSession): Promise<void> {
    const token = s.lease;
    if (!token) return;
    s.lease = undefined;
    s.busy = false;
    const json = _stateJson(s);
    const sealed = json === s.storedState ? "" : await this.#sealer.sealState(s.sid, s);
    await this.#eval("release", _RELEASE, [_sessionKey(s.sid), _busyKey(s.sid)], [
      token,
      sealed,
      String(this.#ttl(s)),
    ]);
    s.storedState = json;
  }

  async delete(sid: string): Promise<void> {
    this.#keys.delete(sid);
    await this.#run(
      "delete",
      () => this.#client.sendCommand(["DEL", _sessionKey(sid), _busyKey(sid)]),
    );
  }

  async check(): Promise<void> {
    try {
      await this.#client.sendCommand(["PING"]);
    } catch {
      throw new Error("redis unreachable");
    }
  }

  async close(): Promise<void> {
    try {
      await this.#client.close();
    } catch {
      this.#client.destroy();
    }
  }

  /** The TTL the session lives under from now: the idle limit, never past the absolute one. */
  #ttl(s: ServerSession): number {
    const left = s.createdAt + this.options.maxAgeMs - this.options.now();
    return Math.max(1, Math.min(this.options.idleMs, left));
  }

  async #keysOf(sid: string, sealed: string): Promise<ChannelKeys> {
    const hit = this.#keys.get(sid);
    if (hit && hit.sealed === sealed) return hit.keys;
    const keys = await this.#sealer.openKeys(sid, sealed);
    this.#cache(sid, sealed, keys);
    return keys;
  }

  #cache(sid: string, sealed: string, keys: ChannelKeys): void {
    if (this.#keys.size >= this.#cacheSize) {
      const oldest = this.#keys.keys().next();
      if (!oldest.done) this.#keys.delete(oldest.value);
    }
    this.#keys.set(sid, { sealed, keys });
  }

  /** Runs a script by its SHA-1, sending its source once more if Redis forgot it. */
  #eval(op: string, script: Script, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    return this.#run(op, async () => {
      try {
        return await this.#client.sendCommand(["EVALSHA", script.sha, ...tail]);
      } catch (err) {
        if (!String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
        return await this.#client.sendCommand(["EVAL", script.lua, ...tail]);
      }
    });
  }

  /** One call, timed; any failure of Redis becomes `503 session_store_unavailable`. */
  async #run<T>(op: string, call: () => Promise<T>): Promise<T> {
    const end = sessionStoreSeconds.startTimer({ op });
    try {
      const answer = await call();
      this.#down = false;
      return answer;
    } catch (err) {
      this.#noteDown(err);
      throw storeUnavailable();
    } finally {
      end();
    }
  }

  #noteDown(err: unknown): void {
    if (this.#down) return;
    this.#down = true;
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log("error", "session_store_down", { error: error.slice(0, 200) });
  }
}

function _sessionKey(sid: string): string {
  return `roamsign:session:{${sid}}`;
}

function _busyKey(sid: string): string {
  return `roamsign:busy:{${sid}}`;
}

function _noUser(): UserState {
  return userStateOf({});
}

function _stateJson(s: UserState): string {
  return JSON.stringify(userStateOf(s));
}

/** An `HGETALL` reply (RESP2 array or RESP3 map) as an object of strings. */
function _fields(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const entries: [unknown, unknown][] = [];
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) entries.push([raw[i], raw[i + 1]]);
  } else if (raw instanceof Map) entries.push(...raw.entries());
  else if (raw && typeof raw === "object") entries.push(...Object.entries(raw));
  for (const [k, v] of entries) out[String(k)] = String(v);
  return out;
}
