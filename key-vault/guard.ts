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
import { type Kysely, sql, type Transaction } from "kysely";
import { ApiError } from "../platform/mod.ts";
import { MAX_SKEW_MS } from "../platform/mod.ts";
import { RATE_CLASSES, type RateClass, type RateClassName } from "../platform/mod.ts";
import type { Database } from "./db.ts";
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
  now?: Date;
}

/**
 * Consumes the request nonce and applies the rate limits. Throws 401 `replayed_nonce`,
 * 429 `rate_limited` (per address or per identity) or 429 `backoff`.
 */
export async function guardRequest(db: Kysely<Database>, input: GuardInput): Promise<void> {
  const now = input.now ?? new Date();
  const nonceExpiry = rpcNonceExpiry(input.ts, now);
  const cls: RateClass = RATE_CLASSES[input.rateClass];
  const perAddress = input.addressTag ? cls.perAddress : undefined;

  if (!perAddress) {
    const r = await sql<{ ok: number }>`insert into nonces (scope, nonce, expires_at)
      values ('rpc', ${input.nonce}, ${nonceExpiry}) on conflict do nothing returning 1 as ok`
      .execute(db);
    if (r.rows.length === 0) {
      throw new ApiError(401, "replayed_nonce", "request nonce already used");
    }
  } else {
    // One round trip: the nonce, and the address window only when the nonce was fresh.
    const key = `a:${input.rateClass}:${input.addressTag}`;
    const windowStart = new Date(now.getTime() - perAddress.windowMs);
    const r = await sql<{ hits: number; window_start: Date }>`
      with n as (
        insert into nonces (scope, nonce, expires_at) values ('rpc', ${input.nonce}, ${nonceExpiry})
        on conflict do nothing returning 1
      )
      insert into rate_limits as r (key, window_start, hits)
      select ${key}, ${now}, 1 where exists (select 1 from n)
      on conflict (key) do update set
        hits = case when r.window_start <= ${windowStart} then 1 else r.hits + 1 end,
        window_start = case when r.window_start <= ${windowStart} then ${now} else r.window_start end
      returning hits, window_start`.execute(db);
    const row = r.rows[0];
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

  if (!input.identity || !input.addressTag) return;
  const idTag = input.tags.identity(input.identity);

  if (cls.perIdentity) {
    const known = await db.selectFrom("known_addresses").select("identity")
      .where("identity", "=", input.identity).where("address_tag", "=", input.addressTag)
      .where("last_success_at", ">", new Date(now.getTime() - KNOWN_ADDRESS_DAYS * 86_400_000))
      .executeTakeFirst();
    if (!known) {
      const key = `i:${input.rateClass}:${idTag}`;
      const windowStart = new Date(now.getTime() - cls.perIdentity.windowMs);
      const r = await sql<{ hits: number; window_start: Date }>`
        insert into rate_limits as r (key, window_start, hits) values (${key}, ${now}, 1)
        on conflict (key) do update set
          hits = case when r.window_start <= ${windowStart} then 1 else r.hits + 1 end,
          window_start = case when r.window_start <= ${windowStart} then ${now} else r.window_start end
        returning hits, window_start`.execute(db);
      const row = r.rows[0];
      const excess = row.hits - cls.perIdentity.limit;
      if (excess > 0 && input.rateClass === "login") {
        // Past the window a sign-in is not refused but costs work, so that a flood on
        // a public identity cannot keep its owner out of a new browser.
        const ok = input.pow &&
          await spendPow(db, input.tags, input.identity, input.addressTag, input.pow, now);
        if (!ok) {
          rateLimitDenials.inc({ class: input.rateClass, scope: "identity" });
          throw new ApiError(
            429,
            "pow_required",
            "many attempts for this identity from new addresses: solve the challenge and retry",
            issuePowChallenge(input.tags, input.identity, input.addressTag, powBits(excess), now),
          );
        }
      } else if (excess > 0) {
        throw _denied(
          "rate_limited",
          "too many attempts for this identity from new addresses",
          new Date(row.window_start).getTime() + cls.perIdentity.windowMs - now.getTime(),
          input.rateClass,
          "identity",
        );
      }
    }
  }

  if (cls.backoff) {
    const { free, baseMs, capMs } = cls.backoff;
    const key = `b:${input.rateClass}:${idTag}:${input.addressTag}`;
    // Count the attempt unless blocked; from the `free`-th unanswered attempt on, the
    // next one waits baseMs·2^(n−free), at most capMs.
    const r = await sql<{ hits: number }>`
      insert into rate_limits as r (key, window_start, hits, blocked_until)
      values (${key}, ${now}, 1, null)
      on conflict (key) do update set
        hits = r.hits + 1,
        window_start = ${now},
        blocked_until = case when r.hits + 1 >= ${free}
          then ${now}::timestamptz + make_interval(secs => least(${baseMs}::float8 * power(2, r.hits + 1 - ${free}), ${capMs}::float8) / 1000.0)
          else null end
      where r.blocked_until is null or r.blocked_until <= ${now}
      returning hits`.execute(db);
    if (r.rows.length === 0) {
      const row = await db.selectFrom("rate_limits").select("blocked_until").where("key", "=", key)
        .executeTakeFirst();
      const until = row?.blocked_until
        ? new Date(row.blocked_until).getTime()
        : now.getTime() + 1000;
      throw _denied(
        "backoff",
        "too many unsuccessful attempts: wait before trying again",
        until - now.getTime(),
        input.rateClass,
        "backoff",
      );
    }
  }
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
  await sql`
    with cleared as (delete from rate_limits where key = any(${keys}::text[]))
    insert into known_addresses as k (identity, address_tag, last_success_at)
    values (${identity}, ${addressTag}, ${now})
    on conflict (identity, address_tag) do update set last_success_at = ${now}
    where k.last_success_at < ${new Date(now.getTime() - 86_400_000)}`.execute(tx);
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
  const count = (r: { numDeletedRows: bigint }[]) =>
    r.reduce((s, x) => s + Number(x.numDeletedRows), 0);
  n += count(await db.deleteFrom("nonces").where("expires_at", "<", now).execute());
  n += count(await db.deleteFrom("login_attempts").where("expires_at", "<", now).execute());
  // Windows are at most an hour and backoffs at most the cap: a day-old row is dead.
  const dayAgo = new Date(now.getTime() - 86_400_000);
  n += count(
    await db.deleteFrom("rate_limits").where("window_start", "<", dayAgo)
      .where((eb) => eb.or([eb("blocked_until", "is", null), eb("blocked_until", "<", now)]))
      .execute(),
  );
  n += count(
    await db.deleteFrom("known_addresses")
      .where("last_success_at", "<", new Date(now.getTime() - KNOWN_ADDRESS_DAYS * 86_400_000))
      .execute(),
  );
  return n;
}
