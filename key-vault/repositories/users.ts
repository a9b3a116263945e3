/**
 * The `users` table: one row per identity for good (pending, active, revoked).
 *
 * @module
 */
import type { Transaction } from "kysely";
import type { Registration } from "../../protocol/mod.ts";
import type { Database, User, UserStatus } from "../db.ts";
import type { Prepared, Q } from "./database.ts";

/** A user by identity, or undefined. */
export function findUser(db: Q, identity: string): Promise<User | undefined> {
  return db.selectFrom("users").selectAll().where("identity", "=", identity).executeTakeFirst();
}

/** A user by identity, row-locked until the transaction ends. */
export function lockUser(tx: Transaction<Database>, identity: string): Promise<User | undefined> {
  return tx.selectFrom("users").selectAll().where("identity", "=", identity).forUpdate()
    .executeTakeFirst();
}

/** Inserts a pending user unless the identity exists; true when inserted. */
export async function insertPendingUser(
  tx: Q,
  registration: Registration,
  now: Date,
): Promise<boolean> {
  const rows = await tx.insertInto("users").values({
    identity: registration.identity,
    full_name: registration.fullName,
    account_number: registration.accountNumber,
    address: registration.address,
    status: "pending",
    created_at: now,
    updated_at: now,
    activated_at: null,
    revoked_at: null,
  }).onConflict((oc) => oc.column("identity").doNothing()).returning("identity").execute();
  return rows.length === 1;
}

/** Replaces an expired pending application's registration data. */
export async function resetPendingUser(
  tx: Q,
  registration: Registration,
  now: Date,
): Promise<void> {
  await tx.updateTable("users").set({
    full_name: registration.fullName,
    account_number: registration.accountNumber,
    address: registration.address,
    created_at: now,
    updated_at: now,
  }).where("identity", "=", registration.identity).where("status", "=", "pending").execute();
}

/** Sets a user's status (and the matching timestamp). */
export async function setUserStatus(tx: Q, identity: string, status: UserStatus, now: Date) {
  await tx.updateTable("users").set({
    status,
    updated_at: now,
    ...(status === "active" ? { activated_at: now } : {}),
    ...(status === "revoked" ? { revoked_at: now } : {}),
  }).where("identity", "=", identity).execute();
}

/** Updates registration data (not the identity). */
export async function updateRegistration(tx: Q, r: Registration, now: Date): Promise<void> {
  await tx.updateTable("users").set({
    full_name: r.fullName,
    account_number: r.accountNumber,
    address: r.address,
    updated_at: now,
  }).where("identity", "=", r.identity).execute();
}

/** The registration data of a user row. */
export function registrationOf(u: User): Registration {
  return {
    identity: u.identity,
    fullName: u.full_name,
    accountNumber: u.account_number,
    address: u.address,
  };
}

/** Users, newest first. */
export function listUsers(db: Q, limit = 10_000): Promise<User[]> {
  return db.selectFrom("users").selectAll().orderBy("created_at", "desc").limit(limit).execute();
}

/** login.start, statement 1: the user and both records, one round trip (no lock, no write). */
const _LOGIN_START_READ = `
  select u.status, o.registration_record, k.record, k.ksf_params
  from users u
  left join opaque_records o on o.identity = u.identity
  left join key_records k on k.identity = u.identity
  where u.identity = $1`;

/** What login.start reads about an identity (all null fields: no such record). */
export interface LoginStartRow {
  status: string;
  registration_record: string | null;
  record: string | null;
  ksf_params: string | null;
}

/** login.start's read (prepared `login_start_read`); undefined for an unknown identity. */
export async function loginStartRead(
  query: Prepared,
  identity: string,
): Promise<LoginStartRow | undefined> {
  const [row] = await query<LoginStartRow>("login_start_read", _LOGIN_START_READ, [identity]);
  return row;
}

/** At most one identity: the health check's probe that the database answers with the schema. */
export async function probeUsers(db: Q): Promise<void> {
  await db.selectFrom("users").select("identity").limit(1).execute();
}
