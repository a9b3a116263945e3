/**
 * The `rate_limits` table: the guard's fixed-window counters and backoffs
 * (key-vault/guard.ts, docs/rate-limits.md). Keys: `a:<class>:<address tag>`,
 * `i:<class>:<identity tag>`, `b:<class>:<identity tag>:<address tag>`.
 *
 * @module
 */
import { sql } from "kysely";
import type { Q } from "./database.ts";

/** A fixed window's count after this request. */
export interface WindowCount {
  hits: number;
  window_start: Date;
}

/**
 * One round trip: records the RPC nonce, and only when it was fresh counts the request
 * in the window `key` (restarted at `now` when it began at or before `windowStart`).
 * Undefined: the nonce was used before.
 */
export async function recordNonceAndCount(
  db: Q,
  c: { nonce: string; nonceExpiry: Date; key: string; now: Date; windowStart: Date },
): Promise<WindowCount | undefined> {
  const { nonce, nonceExpiry, key, now, windowStart } = c;
  const r = await sql<WindowCount>`
      with n as (
        insert into nonces (scope, nonce, expires_at) values ('rpc', ${nonce}, ${nonceExpiry})
        on conflict do nothing returning 1
      )
      insert into rate_limits as r (key, window_start, hits)
      select ${key}, ${now}, 1 where exists (select 1 from n)
      on conflict (key) do update set
        hits = case when r.window_start <= ${windowStart} then 1 else r.hits + 1 end,
        window_start = case when r.window_start <= ${windowStart} then ${now} else r.window_start end
      returning hits, window_start`.execute(db);
  return r.rows[0];
}

/** {@link recordNonceCountAndBackoff}'s answer. */
export interface GuardTrip extends WindowCount {
  /** The address succeeded for the identity since `knownSince`. */
  known: boolean;
  /** The backoff counted this attempt (false also when it was not tried, see below). */
  backoff_counted: boolean;
}

/**
 * The guard's usual sign-in case in one round trip instead of three
 * ({@link recordNonceAndCount}, `isKnownAddress`, {@link countBackoff}): records the RPC
 * nonce; only when it was fresh counts the window `key`; reads whether the address is
 * known for `identity`; and only when the nonce was fresh, the window's count is at most
 * `limit` and the address is known (no per-identity window then) counts the attempt in
 * the backoff `backoff.key`, as {@link countBackoff} would. Undefined: the nonce was used
 * before (nothing counted). The caller runs the per-identity window and the backoff itself
 * when the address is not known.
 */
export async function recordNonceCountAndBackoff(
  db: Q,
  c: {
    nonce: string;
    nonceExpiry: Date;
    key: string;
    now: Date;
    windowStart: Date;
    limit: number;
    identity: string;
    addressTag: string;
    knownSince: Date;
    backoff?: { key: string; free: number; baseMs: number; capMs: number };
  },
): Promise<GuardTrip | undefined> {
  const { nonce, nonceExpiry, key, now, windowStart, limit, identity, addressTag, backoff } = c;
  const b = backoff
    ? sql`, b as (
        insert into rate_limits as r (key, window_start, hits, blocked_until)
        select ${backoff.key}, ${now}, 1, null
        where (select known from k) and exists (select 1 from w where w.hits <= ${limit}::int)
        on conflict (key) do update set
          hits = r.hits + 1,
          window_start = ${now},
          blocked_until = case when r.hits + 1 >= ${backoff.free}
            then ${now}::timestamptz + make_interval(secs => least(${backoff.baseMs}::float8 * power(2, r.hits + 1 - ${backoff.free}), ${backoff.capMs}::float8) / 1000.0)
            else null end
        where r.blocked_until is null or r.blocked_until <= ${now}
        returning 1)`
    : sql``;
  const r = await sql<GuardTrip>`
      with n as (
        insert into nonces (scope, nonce, expires_at) values ('rpc', ${nonce}, ${nonceExpiry})
        on conflict do nothing returning 1
      ), w as (
        insert into rate_limits as r (key, window_start, hits)
        select ${key}, ${now}, 1 where exists (select 1 from n)
        on conflict (key) do update set
          hits = case when r.window_start <= ${windowStart} then 1 else r.hits + 1 end,
          window_start = case when r.window_start <= ${windowStart} then ${now} else r.window_start end
        returning hits, window_start
      ), k as (
        select exists (
          select 1 from known_addresses where identity = ${identity}
          and address_tag = ${addressTag} and last_success_at > ${c.knownSince}
        ) as known
      )${b}
      select w.hits, w.window_start, (select known from k) as known,
        ${backoff ? sql`exists (select 1 from b)` : sql`false`} as backoff_counted
      from w`.execute(db);
  return r.rows[0];
}

/** Counts a request in the window `key` (restarted at `now` when it began at or before `windowStart`). */
export async function countInWindow(
  db: Q,
  key: string,
  now: Date,
  windowStart: Date,
): Promise<WindowCount> {
  const r = await sql<WindowCount>`
        insert into rate_limits as r (key, window_start, hits) values (${key}, ${now}, 1)
        on conflict (key) do update set
          hits = case when r.window_start <= ${windowStart} then 1 else r.hits + 1 end,
          window_start = case when r.window_start <= ${windowStart} then ${now} else r.window_start end
        returning hits, window_start`.execute(db);
  return r.rows[0];
}

/**
 * Counts an attempt in the backoff `key` unless it is blocked at `now`; from the
 * `free`-th unanswered attempt on, the next one waits baseMs·2^(n−free), at most capMs.
 * False: blocked (nothing counted).
 */
export async function countBackoff(
  db: Q,
  key: string,
  now: Date,
  b: { free: number; baseMs: number; capMs: number },
): Promise<boolean> {
  const { free, baseMs, capMs } = b;
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
  return r.rows.length > 0;
}

/** Until when the backoff `key` blocks, or null / undefined. */
export async function blockedUntil(db: Q, key: string): Promise<Date | null | undefined> {
  const row = await db.selectFrom("rate_limits").select("blocked_until").where("key", "=", key)
    .executeTakeFirst();
  return row?.blocked_until;
}

/** Deletes windows that began before `before` and are not blocked past `now`; returns how many. */
export async function deleteDeadRateLimits(db: Q, before: Date, now: Date): Promise<number> {
  const r = await db.deleteFrom("rate_limits").where("window_start", "<", before)
    .where((eb) => eb.or([eb("blocked_until", "is", null), eb("blocked_until", "<", now)]))
    .execute();
  return r.reduce((s, x) => s + Number(x.numDeletedRows), 0);
}
