/**
 * The proxy's shared state, kept in the vault's database so that any number of proxy
 * (and vault) instances agree (docs/rate-limits.md):
 *
 * - replay: every internal request's nonce is single use (`nonces`, scope `rpc`, kept
 *   for twice the timestamp window);
 * - rate limits of the operation's class (platform/ops.ts `RATE_CLASSES`): a fixed-window
 *   counter per client address, a fixed-window counter per identity that only counts
 *   attempts from addresses that never succeeded for that identity, and an exponential
 *   backoff per (identity, address) pair that a success clears.
 *
 * The guard runs in the same HTTP round trip as the operation but in its own
 * statements, committed before the operation starts, so that a failing operation still
 * counts. Addresses are stored only as keyed tags (HMAC-SHA256 under the vault's
 * `tag-key`, key-vault/tags.ts), never in the clear nor as a plain hash: a plain
 * hash of an IPv4 address is reversed by trying all 2^32 of them.
 *
 * @module
 */
import type { Kysely, Transaction } from "kysely";
import { ApiError } from "../platform/mod.ts";
import { MAX_SKEW_MS } from "../platform/mod.ts";
import { RATE_CLASSES, type RateClass, type RateClassName } from "../platform/mod.ts";
import type { Database } from "./db.ts";
import type { Prepared } from "./repositories/database.ts";
import * as repo from "./repositories/mod.ts";
import { issuePowChallenge, powBits, type PowProof, spendPow } from "./pow.ts";
import { rateLimitDenials } from "../platform/mod.ts";
import type { Tagger } from "./tags.ts";
export { createTagger, type Tagger } from "./tags.ts";

/** How long a successful address stays "known" for an identity. */
export const KNOWN_ADDRESS_DAYS = 90;

function _denied(
  code: string,
  message: string,
  retryAfterMs: number,
  rateClass: RateClassName,
  scope: "address" | "identity" | "backoff",
): ApiError {
  rateLimitDenials.inc({ class: rateClass, scope });
  return new ApiError(429, code, message, { retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)) });
}

/** What the guard needs to know about a request. */
export interface GuardInput {
  nonce: string;
  ts: number;
  rateClass: RateClassName;
  identity?: string;
  addressTag: string;
  /** Tags the identity for the rate-limit keys. */
  tags: Tagger;
  /** A solved challenge (class `login` past its per-identity window; key-vault/pow.ts). */
  pow?: PowProof;
  /** The vault's prepared statements (`VaultState.query`): step 1 runs as one of them. */
  query?: Prepared;
  now?: Date;
}

/**
 * Consumes the request nonce and applies the rate limits. Throws 401 `replayed_nonce`,
 * 429 `rate_limited` (per address or per identity) or 429 `backoff`.
 */
export async function guardRequest(db: Kysely<Database>, input: GuardInput): Promise<void> {
  const now = input.now ?? new Date();
  const cls: RateClass = RATE_CLASSES[input.rateClass];
  if (input.identity && input.addressTag && cls.perAddress && cls.perIdentity) {
    // A sign-in (and the other per-identity classes): one round trip when the address is
    // known for the identity, the usual case (docs/benchmarks.md, issue 20).
    const known = await _oneTrip(db, input, cls, cls.perAddress, now);
    if (known) return;
    await _identityWindow(db, input, cls.perIdentity, now, false);
    if (cls.backoff) await _backoff(db, input, cls.backoff, now);
    return;
  }
  await _nonceAndAddressWindow(db, input, cls, now);
  if (!input.identity || !input.addressTag) return;
  if (cls.perIdentity) await _identityWindow(db, input, cls.perIdentity, now);
  if (cls.backoff) await _backoff(db, input, cls.backoff, now);
}

/**
 * Steps 1–3 in one statement (repo.recordNonceCountAndBackoff): the nonce, the address
 * window, whether the address is known for the identity, and — only when the window holds
 * and the address is known, so that no per-identity window applies — the backoff. Throws
 * as the steps would; true: the address is known and everything is done; false: not
 * known, the caller runs steps 2 and 3 (nothing of them was counted).
 */
async function _oneTrip(
  db: Kysely<Database>,
  input: GuardInput,
  cls: RateClass,
  perAddress: NonNullable<RateClass["perAddress"]>,
  now: Date,
): Promise<boolean> {
  const identity = input.identity!;
  const backoff = cls.backoff ? { key: _backoffKey(input), ...cls.backoff } : undefined;
  const row = await repo.recordNonceCountAndBackoff(db, {
    nonce: input.nonce,
    nonceExpiry: rpcNonceExpiry(input.ts, now),
    key: `a:${input.rateClass}:${input.addressTag}`,
    now,
    windowStart: new Date(now.getTime() - perAddress.windowMs),
    limit: perAddress.limit,
    identity,
    addressTag: input.addressTag,
    knownSince: new Date(now.getTime() - KNOWN_ADDRESS_DAYS * 86_400_000),
    backoff,
  }, input.query);
  _checkNonceAndAddress(row, perAddress, input, now);
  if (!row.known) return false;
  if (backoff && !row.backoff_counted) await _blocked(db, backoff.key, input.rateClass, now);
  return true;
}

/**
 * Step 1's verdict on its row: none means the nonce was used before; more hits than the
 * address window allows is `rate_limited`.
 */
function _checkNonceAndAddress<R extends { hits: number; window_start: Date }>(
  row: R | undefined,
  perAddress: NonNullable<RateClass["perAddress"]>,
  input: GuardInput,
  now: Date,
): asserts row is R {
  if (!row) throw new ApiError(401, "replayed_nonce", "request nonce already used");
  if (row.hits > perAddress.limit) {
    throw _denied(
      "rate_limited",
      "too many requests from this address",
      new Date(row.window_start).getTime() + perAddress.windowMs - now.getTime(),
      input.rateClass,
      "address",
    );
  }
}

function _backoffKey(input: GuardInput): string {
  return `b:${input.rateClass}:${input.tags.identity(input.identity!)}:${input.addressTag}`;
}

/** Step 1: the nonce, and (with an address) its window, in one round trip. */
async function _nonceAndAddressWindow(
  db: Kysely<Database>,
  input: GuardInput,
  cls: RateClass,
  now: Date,
): Promise<void> {
  const nonceExpiry = rpcNonceExpiry(input.ts, now);
  const perAddress = input.addressTag ? cls.perAddress : undefined;
  if (!perAddress) {
    const fresh = await repo.recordRpcNonce(db, input.nonce, nonceExpiry);
    if (!fresh) {
      throw new ApiError(401, "replayed_nonce", "request nonce already used");
    }
    return;
  }
  // One round trip: the nonce, and the address window only when the nonce was fresh.
  const key = `a:${input.rateClass}:${input.addressTag}`;
  const windowStart = new Date(now.getTime() - perAddress.windowMs);
  const row = await repo.recordNonceAndCount(db, {
    nonce: input.nonce,
    nonceExpiry,
    key,
    now,
    windowStart,
  }, input.query);
  _checkNonceAndAddress(row, perAddress, input, now);
}

/**
 * Step 2: the identity's window, counting only addresses that never succeeded for it;
 * past it a sign-in needs a solved challenge, anything else is refused.
 */
async function _identityWindow(
  db: Kysely<Database>,
  input: GuardInput,
  perIdentity: NonNullable<RateClass["perIdentity"]>,
  now: Date,
  knownAlready?: boolean,
): Promise<void> {
  const identity = input.identity!;
  const known = knownAlready ?? await repo.isKnownAddress(
    db,
    identity,
    input.addressTag,
    new Date(now.getTime() - KNOWN_ADDRESS_DAYS * 86_400_000),
  );
  if (known) return;
  const key = `i:${input.rateClass}:${input.tags.identity(identity)}`;
  const windowStart = new Date(now.getTime() - perIdentity.windowMs);
  const row = await repo.countInWindow(db, key, now, windowStart);
  const excess = row.hits - perIdentity.limit;
  if (excess > 0 && input.rateClass === "login") {
    // Past the window a sign-in is not refused but costs work, so that a flood on
    // a public identity cannot keep its owner out of a new browser.
    const ok = input.pow &&
      await spendPow(db, input.tags, identity, input.addressTag, input.pow, now);
    if (!ok) {
      rateLimitDenials.inc({ class: input.rateClass, scope: "identity" });
      throw new ApiError(
        429,
        "pow_required",
        "many attempts for this identity from new addresses: solve the challenge and retry",
        issuePowChallenge(input.tags, identity, input.addressTag, powBits(excess), now),
      );
    }
  } else if (excess > 0) {
    throw _denied(
      "rate_limited",
      "too many attempts for this identity from new addresses",
      new Date(row.window_start).getTime() + perIdentity.windowMs - now.getTime(),
      input.rateClass,
      "identity",
    );
  }
}

/** Step 3: the (identity, address) backoff; a success clears it ({@link creditSuccess}). */
async function _backoff(
  db: Kysely<Database>,
  input: GuardInput,
  backoff: NonNullable<RateClass["backoff"]>,
  now: Date,
): Promise<void> {
  const key = _backoffKey(input);
  // Count the attempt unless blocked; from the `free`-th unanswered attempt on, the
  // next one waits baseMs·2^(n−free), at most capMs.
  const counted = await repo.countBackoff(db, key, now, backoff);
  if (!counted) await _blocked(db, key, input.rateClass, now);
}

/** Throws 429 `backoff` with the time left on the backoff `key`. */
async function _blocked(
  db: Kysely<Database>,
  key: string,
  rateClass: RateClassName,
  now: Date,
): Promise<never> {
  const blocked = await repo.blockedUntil(db, key);
  const until = blocked ? new Date(blocked).getTime() : now.getTime() + 1000;
  throw _denied(
    "backoff",
    "too many unsuccessful attempts: wait before trying again",
    until - now.getTime(),
    rateClass,
    "backoff",
  );
}

/**
 * Records a success for (identity, address) in the caller's transaction: clears the
 * backoff of that pair and marks the address as known for the identity.
 */
export async function creditSuccess(
  tx: Transaction<Database> | Kysely<Database>,
  tags: Tagger,
  rateClass: RateClassName,
  identity: string,
  addressTag: string,
  now: Date = new Date(),
): Promise<void> {
  if (!addressTag) return;
  const idTag = tags.identity(identity);
  const classes: RateClassName[] = rateClass === "consent" ? ["consent", "login"] : [rateClass];
  const keys = classes.map((c) => `b:${c}:${idTag}:${addressTag}`);
  // One round trip; the known-address row is rewritten at most daily.
  await repo.clearBackoffAndMarkKnown(tx, {
    keys,
    identity,
    addressTag,
    now,
    rewriteBefore: new Date(now.getTime() - 86_400_000),
  });
}

/** The expiry of an RPC nonce carried by a request with timestamp `ts`. */
export function rpcNonceExpiry(ts: number, now: Date = new Date()): Date {
  return new Date(Math.max(now.getTime(), ts) + 2 * MAX_SKEW_MS);
}

/** Deletes expired guard state; returns the number of rows removed. */
export async function pruneGuardState(
  db: Kysely<Database>,
  now: Date = new Date(),
): Promise<number> {
  let n = 0;
  n += await repo.deleteExpiredNonces(db, now);
  n += await repo.deleteExpiredLoginAttempts(db, now);
  // Windows are at most an hour and backoffs at most the cap: a day-old row is dead.
  n += await repo.deleteDeadRateLimits(db, new Date(now.getTime() - 86_400_000), now);
  n += await repo.deleteKnownAddressesBefore(
    db,
    new Date(now.getTime() - KNOWN_ADDRESS_DAYS * 86_400_000),
  );
  return n;
}
