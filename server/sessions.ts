/**
 * The web server's half of the KS(m,a) channel state (docs/session-channel.md): one
 * entry per session with N(s), T(s), the two direction keys once KS arrived, the last
 * accepted sequence number and who signed in. Sessions end after an idle limit, an
 * absolute limit, or `session.close`.
 *
 * {@link SessionStore} is what the routes use; two implementations:
 *
 * - {@link MemorySessionStore} (here): in this process's memory, the default of
 *   `deno task start`. A restart of the web server ends every session.
 * - `RedisSessionStore` (server/redis_sessions.ts), with `REDIS_URL`: shared by every web
 *   server behind a load balancer without affinity (docs/operations.md "Several web
 *   servers"). The direction keys and the user state are sealed under the web-tier key.
 *
 * Both accept a request the same way: the route opens the ciphertext with the keys it
 * looked up, then {@link SessionStore.accept} atomically checks and takes the sequence
 * number (and a lease on the session), so that of two copies of one sealed request —
 * on one web server or on two — exactly one is accepted; {@link SessionStore.release}
 * writes back what the operation changed and ends the lease.
 *
 * @module
 */
import { b64uEncode, deriveChannelKeys } from "../protocol/mod.ts";
import { NONCE_BYTES, SEED_BYTES, SID_BYTES } from "../protocol/mod.ts";
import type { ChannelBinding, ChannelKeys, SessionOffer } from "../protocol/mod.ts";
import { randomBytes } from "../protocol/mod.ts";
import { ApiError } from "../platform/mod.ts";

/** What a signed-in session knows about its user (changed by the operations). */
export interface UserState {
  /** The identity that completed an OPAQUE login in this session. */
  identity: string | null;
  /** An OPAQUE login started in this session and not yet finished. */
  pendingLogin: { loginId: string; identity: string } | null;
  /**
   * A re-authentication login (docs/lifecycle.md) started by the signed-in user and not
   * yet finished. Unlike `pendingLogin` it leaves `identity` alone: a wrong current pass
   * phrase does not sign the user out.
   */
  pendingReauth?: { loginId: string; identity: string } | null;
  /** A passkey sign-in this session started (docs/passkeys.md): its vault challenge. */
  pendingPasskey?: { challengeId: string } | null;
}

/**
 * Exactly the {@link UserState} fields of `s`, absent ones as `null`: what the Redis store
 * seals and compares (server/redis_sessions.ts, server/session_keys.ts), so that a field
 * added here travels with the session on every store.
 */
export function userStateOf(s: Partial<UserState>): UserState {
  return {
    identity: s.identity ?? null,
    pendingLogin: s.pendingLogin ?? null,
    pendingReauth: s.pendingReauth ?? null,
    pendingPasskey: s.pendingPasskey ?? null,
  };
}

/** One session. */
export interface ServerSession extends UserState {
  sid: string;
  binding: ChannelBinding;
  /** R(s) as sent; kept only until KS arrives (the memory store; never in Redis). */
  seed: string | null;
  createdAt: number;
  lastSeen: number;
  keys: ChannelKeys | null;
  /** Last accepted request sequence number (0 = none yet). */
  lastSeq: number;
  /** A request is being handled; the next one must wait for its answer. */
  busy: boolean;
  /** The client address that opened the session (for the proxy's limits). */
  client: string;
  /** The Redis store's lease token of the request being handled (internal). */
  lease?: string;
  /** The user state as loaded, as JSON (the Redis store writes it back only if changed). */
  storedState?: string;
}

/** Limits of the store. */
export interface SessionStoreOptions {
  /** A session unused for this long is gone (DESIGN.md §2.11: 10 minutes). */
  idleMs: number;
  /** No session lives longer than this, used or not. */
  maxAgeMs: number;
  /** A session without KS after this long is gone. */
  keyWithinMs: number;
  /** At most this many sessions at once; the oldest unkeyed go first (memory store). */
  maxSessions: number;
  now: () => number;
}

/** The limits roamsign runs with. */
export const DEFAULT_OPTIONS: SessionStoreOptions = {
  idleMs: 10 * 60_000,
  maxAgeMs: 12 * 60 * 60_000,
  keyWithinMs: 60_000,
  maxSessions: 100_000,
  now: () => Date.now(),
};

/** What {@link SessionStore.accept} decided about a request's sequence number. */
export type Acceptance = "accepted" | "replayed" | "out_of_order" | "in_flight" | "gone";

/** A session and its offer (the route adds the certificates). */
export interface CreatedSession {
  session: ServerSession;
  offer: Omit<SessionOffer, "integrityCert" | "confidentialityCert">;
}

/** The sessions of the web tier: in memory, or shared in Redis. */
export interface SessionStore {
  readonly options: SessionStoreOptions;
  /** `memory` or `redis` (logs, `/readyz`, the load benchmark). */
  readonly kind: "memory" | "redis";
  /** Sessions whose channel keys this process holds in memory (a gauge). */
  readonly size: number;
  /** Opens a session. */
  create(client: string): Promise<CreatedSession>;
  /** The live session `sid`, or why there is none. */
  lookup(sid: string): Promise<ServerSession | "unknown" | "expired">;
  /**
   * Derives the direction keys from KS and keeps them with the session (`s.keys` set);
   * false when the session already had keys, "gone" when it no longer exists. Does not
   * wipe `ks`.
   */
  setKeys(s: ServerSession, ks: Uint8Array): Promise<boolean | "gone">;
  /**
   * Request `seq` of `s` authenticated: atomically, if `seq` is the next number and no
   * other request of the session is being handled, it is used up, the session is leased
   * to this request and its idle clock reset.
   */
  accept(s: ServerSession, seq: number): Promise<Acceptance>;
  /** The accepted request is answered: writes back `s`'s {@link UserState}, ends the lease. */
  release(s: ServerSession): Promise<void>;
  /** Forgets a session. */
  delete(sid: string): Promise<void>;
  /** `/readyz`: throws when the store cannot be used. */
  check(): Promise<void>;
  /** Closes connections (shutdown, tests). */
  close(): Promise<void>;
}

/** 503 `session_store_unavailable` (retryable): the shared store cannot be used now. */
export function storeUnavailable(): ApiError {
  return new ApiError(
    503,
    "session_store_unavailable",
    "The session store cannot be reached right now; nothing was done. Try again.",
  );
}

/** A fresh session: sid, N(s), T(s) = now, R(s). */
export function newSession(client: string, now: number): CreatedSession {
  const sidBytes = randomBytes(SID_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const seed = b64uEncode(randomBytes(SEED_BYTES));
  const sid = b64uEncode(sidBytes);
  const session: ServerSession = {
    sid,
    binding: { sid: sidBytes, nonce, time: now },
    seed,
    createdAt: now,
    lastSeen: now,
    keys: null,
    lastSeq: 0,
    busy: false,
    identity: null,
    pendingLogin: null,
    client,
  };
  return { session, offer: { sid, nonce: b64uEncode(nonce), time: now, seed } };
}

/** In-memory sessions: one web server, the default. */
export class MemorySessionStore implements SessionStore {
  readonly options: SessionStoreOptions;
  readonly kind = "memory";
  readonly #sessions = new Map<string, ServerSession>();
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(options: Partial<SessionStoreOptions> = {}) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  /** How many sessions are live. */
  get size(): number {
    return this.#sessions.size;
  }

  create(client: string): Promise<CreatedSession> {
    const now = this.options.now();
    // A full sweep walks every session: at most once a second here (lookup() checks the
    // session it returns anyway), not on every create — with sessions that clients never
    // close, a sweep per request made each new session cost O(live sessions).
    if (now - this.#sweptAt >= 1_000) this.sweep();
    if (this.#sessions.size >= this.options.maxSessions) this.#evict();
    const created = newSession(client, now);
    this.#sessions.set(created.session.sid, created.session);
    return Promise.resolve(created);
  }

  lookup(sid: string): Promise<ServerSession | "unknown" | "expired"> {
    const s = this.#sessions.get(sid);
    if (!s) return Promise.resolve("unknown");
    if (this.#expired(s, this.options.now())) {
      this.#sessions.delete(sid);
      return Promise.resolve("expired");
    }
    return Promise.resolve(s);
  }

  async setKeys(s: ServerSession, ks: Uint8Array): Promise<boolean | "gone"> {
    if (s.keys) return false;
    const keys = await deriveChannelKeys(ks, s.binding);
    if (this.#sessions.get(s.sid) !== s) return "gone";
    if (s.keys) return false; // another request keyed it while this one derived
    s.keys = keys;
    s.seed = null;
    s.lastSeen = this.options.now();
    return true;
  }

  accept(s: ServerSession, seq: number): Promise<Acceptance> {
    // One synchronous step: nothing else runs between the checks and the update.
    if (this.#sessions.get(s.sid) !== s) return Promise.resolve("gone");
    if (seq <= s.lastSeq) return Promise.resolve("replayed");
    if (seq !== s.lastSeq + 1) return Promise.resolve("out_of_order");
    if (s.busy) return Promise.resolve("in_flight");
    s.busy = true;
    s.lastSeq = seq;
    s.lastSeen = this.options.now();
    return Promise.resolve("accepted");
  }

  release(s: ServerSession): Promise<void> {
    s.busy = false; // the operation changed `s` itself
    return Promise.resolve();
  }

  delete(sid: string): Promise<void> {
    this.#sessions.delete(sid);
    return Promise.resolve();
  }

  check(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Drops every expired session. */
  sweep(): void {
    const now = this.options.now();
    this.#sweptAt = now;
    for (const [sid, s] of this.#sessions) if (this.#expired(s, now)) this.#sessions.delete(sid);
  }

  #expired(s: ServerSession, now: number): boolean {
    if (now - s.createdAt > this.options.maxAgeMs) return true;
    if (now - s.lastSeen > this.options.idleMs) return true;
    return s.keys === null && now - s.createdAt > this.options.keyWithinMs;
  }

  #evict(): void {
    // Unkeyed sessions first (cheap to make, so they are what a flood consists of), then oldest.
    for (const [sid, s] of this.#sessions) {
      if (s.keys === null) {
        this.#sessions.delete(sid);
        return;
      }
    }
    const first = this.#sessions.keys().next();
    if (!first.done) this.#sessions.delete(first.value);
  }
}
