/**
 * The web server's half of the KS(m,a) channel state (docs/session-channel.md):
 * one entry per session, in memory only, with N(s), T(s), the two direction
 * keys once KS arrived, the last accepted sequence number and who signed in.
 * Sessions end after an idle limit, an absolute limit, or `session.close`.
 *
 * @module
 */
import { b64uEncode } from "../protocol/mod.ts";
import { NONCE_BYTES, SEED_BYTES, SID_BYTES } from "../protocol/mod.ts";
import type { ChannelBinding, ChannelKeys, SessionOffer } from "../protocol/mod.ts";
import { randomBytes } from "../protocol/mod.ts";

/** One session. */
export interface ServerSession {
  sid: string;
  binding: ChannelBinding;
  /** R(s) as sent; kept only until KS arrives. */
  seed: string | null;
  createdAt: number;
  lastSeen: number;
  keys: ChannelKeys | null;
  /** Last accepted request sequence number (0 = none yet). */
  lastSeq: number;
  /** A request is being handled; the next one must wait for its answer. */
  busy: boolean;
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
  /** The client address that opened the session (for the proxy's limits). */
  client: string;
}

/** Limits of the store. */
export interface SessionStoreOptions {
  /** A session unused for this long is gone (DESIGN.md §2.11: 10 minutes). */
  idleMs: number;
  /** No session lives longer than this, used or not. */
  maxAgeMs: number;
  /** A session without KS after this long is gone. */
  keyWithinMs: number;
  /** At most this many sessions at once; the oldest unkeyed go first. */
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

/** In-memory sessions. */
export class SessionStore {
  readonly options: SessionStoreOptions;
  readonly #sessions = new Map<string, ServerSession>();
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(options: Partial<SessionStoreOptions> = {}) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  /** How many sessions are live. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Opens a session and returns it with its offer (certificates are added by the route). */
  create(
    client: string,
  ): {
    session: ServerSession;
    offer: Omit<SessionOffer, "integrityCert" | "confidentialityCert">;
  } {
    const now = this.options.now();
    // A full sweep walks every session: at most once a second here (lookup() checks the
    // session it returns anyway), not on every create — with sessions that clients never
    // close, a sweep per request made each new session cost O(live sessions).
    if (now - this.#sweptAt >= 1_000) this.sweep();
    if (this.#sessions.size >= this.options.maxSessions) this.#evict();
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
    this.#sessions.set(sid, session);
    return { session, offer: { sid, nonce: b64uEncode(nonce), time: now, seed } };
  }

  /** The live session for `sid`, or why there is none. */
  lookup(sid: string): ServerSession | "unknown" | "expired" {
    const s = this.#sessions.get(sid);
    if (!s) return "unknown";
    if (this.#expired(s, this.options.now())) {
      this.#sessions.delete(sid);
      return "expired";
    }
    return s;
  }

  /** Marks activity (resets the idle clock). */
  touch(s: ServerSession): void {
    s.lastSeen = this.options.now();
  }

  /** Forgets a session. */
  delete(sid: string): void {
    this.#sessions.delete(sid);
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
