/**
 * The `rate_limits` table: the guard's fixed-window counters and backoffs
 * (key-vault/guard.ts, docs/rate-limits.md). Keys: `a:<class>:<address tag>`,
 * `i:<class>:<identity tag>`, `b:<class>:<identity tag>:<address tag>`.
 *
 * @module
 */
import { CompiledQuery, sql } from "kysely";
import type { Prepared, Q } from "./database.ts";

/** A fixed window's count after this request. */
export interface WindowCount {
  hits: number;
  window_start: Date;
}

/**
 * Runs a guard statement (fixed `text`, `$n` parameters): as the named prepared statement
 * `name` through `query` when given (the vault's pool, key-vault/db.ts `Db.query`: the
 * server parses and plans it once per connection), else as a plain query on `db`.
 */
async function _run<T>(
  db: Q,
  query: Prepared | undefined,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  if (query) return await query<T>(name, text, values);
  return (await db.executeQuery<T>(CompiledQuery.raw(text, values))).rows;
}

// $1 nonce, $2 nonce expiry, $3 window key, $4 now, $5 window start (restart at or before).
const _NONCE = `n as (
    insert into nonces (scope, nonce, expires_at) values ('rpc', $1::text, $2::timestamptz)
    on conflict do nothing returning 1
  )`;
const _WINDOW = `w as (
    insert into rate_limits as r (key, window_start, hits)
    select $3::text, $4::timestamptz, 1 where exists (select 1 from n)
    on conflict (key) do update set
      hits = case when r.window_start <= $5::timestamptz then 1 else r.hits + 1 end,
      window_start = case when r.window_start <= $5::timestamptz then $4::timestamptz
        else r.window_start end
    returning hits, window_start
  )`;

const _NONCE_AND_COUNT = `with ${_NONCE}, ${_WINDOW} select hits, window_start from w`;

/**
 * One round trip: records the RPC nonce, and only when it was fresh counts the request
 * in the window `key` (restarted at `now` when it began at or before `windowStart`).
 * Undefined: the nonce was used before. Prepared `guard_nonce_window` with `query`.
 */
export async function recordNonceAndCount(
  db: Q,
  c: { nonce: string; nonceExpiry: Date; key: string; now: Date; windowStart: Date },
  query?: Prepared,
): Promise<WindowCount | undefined> {
  const { nonce, nonceExpiry, key, now, windowStart } = c;
  const [row] = await _run<WindowCount>(db, query, "guard_nonce_window", _NONCE_AND_COUNT, [
    nonce,
    nonceExpiry,
    key,
    now,
    windowStart,
  ]);
  return row;
}

/** {@link recordNonceCountAndBackoff}'s answer. */
export interface GuardTrip extends WindowCount {
  /** The address succeeded for the identity since `knownSince`. */
  known: boolean;
  /** The backoff counted this attempt (false also when it was not tried, see below). */
  backoff_counted: boolean;
}

// $6 address limit, $7 identity, $8 address tag, $9 known since.
const _KNOWN = `k as (
    select exists (
      select 1 from known_addresses where identity = $7::text and address_tag = $8::text
      and last_success_at > $9::timestamptz
    ) as known
  )`;
// $10 backoff key, $11 free attempts, $12 base ms, $13 cap ms: countBackoff's update, run
// only when the nonce was fresh, the address window holds and the address is known.
const _BACKOFF = `b as (
    insert into rate_limits as r (key, window_start, hits, blocked_until)
    select $10::text, $4::timestamptz, 1, null
    where (select known from k) and exists (select 1 from w where w.hits <= $6::int)
    on conflict (key) do update set
      hits = r.hits + 1,
      window_start = $4::timestamptz,
      blocked_until = case when r.hits + 1 >= $11::int
        then $4::timestamptz + make_interval(secs => least($12::float8 * power(2, r.hits + 1 - $11::int), $13::float8) / 1000.0)
        else null end
    where r.blocked_until is null or r.blocked_until <= $4::timestamptz
    returning 1
  )`;
const _TRIP = `with ${_NONCE}, ${_WINDOW}, ${_KNOWN}, ${_BACKOFF}
  select w.hits, w.window_start, (select known from k) as known,
    exists (select 1 from b) as backoff_counted
  from w`;
// The same parameters ($6, the limit, is not needed without a backoff but must be typed).
const _TRIP_NO_BACKOFF = `with ${_NONCE}, ${_WINDOW}, ${_KNOWN}
  select w.hits, w.window_start, (select known from k) as known, false as backoff_counted
  from w where $6::int is not null`;

/**
 * The guard's usual sign-in case in one round trip instead of three
 * ({@link recordNonceAndCount}, `isKnownAddress`, {@link countBackoff}): records the RPC
 * nonce; only when it was fresh counts the window `key`; reads whether the address is
 * known for `identity`; and only when the nonce was fresh, the window's count is at most
 * `limit` and the address is known (no per-identity window then) counts the attempt in
 * the backoff `backoff.key`, as {@link countBackoff} would. Undefined: the nonce was used
 * before (nothing counted). The caller runs the per-identity window and the backoff itself
 * when the address is not known. Prepared `guard_trip` (`guard_trip_nb` without a backoff)
 * with `query`.
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
  query?: Prepared,
): Promise<GuardTrip | undefined> {
  const values: unknown[] = [
    c.nonce,
    c.nonceExpiry,
    c.key,
    c.now,
    c.windowStart,
    c.limit,
    c.identity,
    c.addressTag,
    c.knownSince,
  ];
  const b = c.backoff;
  const [row] = b
    ? await _run<GuardTrip>(db, query, "guard_trip", _TRIP, [
      ...values,
      b.key,
      b.free,
      b.baseMs,
      b.capMs,
    ])
    : await _run<GuardTrip>(db, query, "guard_trip_nb", _TRIP_NO_BACKOFF, values);
  return row;
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
