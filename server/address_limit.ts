/**
 * A per-address fixed-window counter in the web server's memory, for what the web
 * server does before any vault call and so before the proxy's limits apply: opening a
 * session (`GET /api/session`), whose KS costs one RSA-OAEP decryption
 * (docs/rate-limits.md, "The web server's own limit").
 *
 * In memory and per web-server instance, like the sessions themselves (a load balancer
 * keeps a session on one server). At most `maxAddresses` windows are kept; beyond that
 * the expired ones are dropped, and if none has expired the table starts over (an
 * attacker with that many addresses is beyond what a per-address limit can stop).
 *
 * @module
 */

/** The limit: `limit` per `windowMs` per address; `limit` 0 switches it off. */
export interface AddressLimitOptions {
  limit: number;
  windowMs: number;
  maxAddresses?: number;
  now?: () => number;
}

/** Fixed-window counter per address. */
export class AddressLimit {
  readonly #o: Required<AddressLimitOptions>;
  readonly #windows = new Map<string, { start: number; hits: number }>();

  constructor(options: AddressLimitOptions) {
    this.#o = { maxAddresses: 100_000, now: () => Date.now(), ...options };
  }

  /** Counts one request from `address`; returns 0 if allowed, else the ms to wait. */
  hit(address: string): number {
    const { limit, windowMs, maxAddresses, now } = this.#o;
    if (limit <= 0) return 0;
    const t = now();
    let w = this.#windows.get(address);
    if (!w || t - w.start >= windowMs) {
      if (!w && this.#windows.size >= maxAddresses) this.#sweep(t);
      w = { start: t, hits: 0 };
      this.#windows.set(address, w);
    }
    w.hits++;
    return w.hits > limit ? Math.max(1, w.start + windowMs - t) : 0;
  }

  #sweep(t: number): void {
    for (const [a, w] of this.#windows) {
      if (t - w.start >= this.#o.windowMs) this.#windows.delete(a);
    }
    if (this.#windows.size >= this.#o.maxAddresses) this.#windows.clear();
  }
}
