/**
 * Repositories: plain functions over the vault's tables, `db` (or a transaction)
 * first. They hold no policy; key-vault/operations/ decides.
 *
 * @module
 */
import type { Kysely, Transaction } from "kysely";
import type { Registration } from "../protocol/mod.ts";
import type { Certificate, CertificateStatus, Consent, Database, User, UserStatus } from "./db.ts";

/** A database handle or an open transaction. */
export type Q = Kysely<Database> | Transaction<Database>;

// ── users ────────────────────────────────────────────────────────────────────────────

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

// ── key and OPAQUE records ──────────────────────────────────────────────────────────

/** Stores (or replaces) the current key record. */
export async function putKeyRecord(
  tx: Q,
  identity: string,
  record: string,
  spkiSha256: string,
  now: Date,
): Promise<void> {
  await tx.insertInto("key_records")
    .values({ identity, record, spki_sha256: spkiSha256, updated_at: now })
    .onConflict((oc) =>
      oc.column("identity").doUpdateSet({ record, spki_sha256: spkiSha256, updated_at: now })
    )
    .execute();
}

/** The current key record text, or undefined. */
export async function getKeyRecord(db: Q, identity: string): Promise<string | undefined> {
  const row = await db.selectFrom("key_records").select("record").where("identity", "=", identity)
    .executeTakeFirst();
  return row?.record;
}

/** Stores (or replaces) the OPAQUE registration record. */
export async function putOpaqueRecord(tx: Q, identity: string, record: string, now: Date) {
  await tx.insertInto("opaque_records")
    .values({ identity, registration_record: record, updated_at: now })
    .onConflict((oc) =>
      oc.column("identity").doUpdateSet({ registration_record: record, updated_at: now })
    )
    .execute();
}

/** The OPAQUE registration record, or undefined. */
export async function getOpaqueRecord(db: Q, identity: string): Promise<string | undefined> {
  const row = await db.selectFrom("opaque_records").select("registration_record")
    .where("identity", "=", identity).executeTakeFirst();
  return row?.registration_record;
}

/** Erases the key record and the OPAQUE record (revocation: really gone, not flagged). */
export async function eraseRecords(tx: Q, identity: string): Promise<void> {
  await tx.deleteFrom("key_records").where("identity", "=", identity).execute();
  await tx.deleteFrom("opaque_records").where("identity", "=", identity).execute();
  await tx.deleteFrom("login_attempts").where("identity", "=", identity).execute();
}

// ── consents ────────────────────────────────────────────────────────────────────────

/** The pending consent of an identity, or undefined. */
export function findConsent(db: Q, identity: string): Promise<Consent | undefined> {
  return db.selectFrom("consents").selectAll().where("identity", "=", identity)
    .executeTakeFirst();
}

/** Stores a consent (replacing an expired one). */
export async function putConsent(tx: Q, c: Consent): Promise<void> {
  await tx.deleteFrom("consents").where("identity", "=", c.identity).execute();
  await tx.insertInto("consents").values(c).execute();
}

/** Counts one wrong phrase; returns the new attempt count. */
export async function countConsentAttempt(tx: Q, identity: string): Promise<number> {
  const row = await tx.updateTable("consents").set((eb) => ({ attempts: eb("attempts", "+", 1) }))
    .where("identity", "=", identity).returning("attempts").executeTakeFirstOrThrow();
  return row.attempts;
}

/** Deletes a consent (activated, or application revoked). */
export async function deleteConsent(tx: Q, identity: string): Promise<void> {
  await tx.deleteFrom("consents").where("identity", "=", identity).execute();
}

/** Pending applications joined with their users. */
export function listPending(db: Q) {
  return db.selectFrom("consents").innerJoin("users", "users.identity", "consents.identity")
    .select([
      "users.identity",
      "users.full_name",
      "users.created_at",
      "consents.expires_at",
      "consents.attempts",
      "consents.letter_status",
    ])
    .where("users.status", "=", "pending").orderBy("users.created_at").execute();
}

/** Queued letters with what goes on the envelope (the phrase is still sealed). */
export function listQueuedLetters(db: Q) {
  return db.selectFrom("consents").innerJoin("users", "users.identity", "consents.identity")
    .select([
      "users.identity",
      "users.full_name",
      "users.address",
      "consents.letter_sealed",
      "consents.created_at",
      "consents.expires_at",
    ])
    .where("consents.letter_status", "=", "queued").where("users.status", "=", "pending")
    .orderBy("consents.created_at").execute();
}

// ── certificates ────────────────────────────────────────────────────────────────────

/** Stores an issued certificate. */
export async function insertCertificate(tx: Q, c: Certificate): Promise<void> {
  await tx.insertInto("certificates").values(c).execute();
}

/** The active user certificate of an identity, or undefined. */
export function activeCertificate(db: Q, identity: string): Promise<Certificate | undefined> {
  return db.selectFrom("certificates").selectAll().where("identity", "=", identity)
    .where("kind", "=", "user").where("status", "=", "active").executeTakeFirst();
}

/** The newest user certificate of an identity (any status), or undefined. */
export function latestCertificate(db: Q, identity: string): Promise<Certificate | undefined> {
  return db.selectFrom("certificates").selectAll().where("identity", "=", identity)
    .where("kind", "=", "user").orderBy("issued_at", "desc").limit(1).executeTakeFirst();
}

/** Every user certificate of an identity, oldest first (the archive). */
export function certificateHistory(db: Q, identity: string): Promise<Certificate[]> {
  return db.selectFrom("certificates").selectAll().where("identity", "=", identity)
    .where("kind", "=", "user").orderBy("issued_at").execute();
}

/** Moves an active certificate to `superseded` or `revoked`. */
export async function retireCertificate(
  tx: Q,
  serial: string,
  status: Exclude<CertificateStatus, "active">,
  reason: string | null,
  now: Date,
): Promise<void> {
  await tx.updateTable("certificates")
    .set({ status, status_changed_at: now, revocation_reason: reason })
    .where("serial", "=", serial).where("status", "=", "active").execute();
}

/** The most recently retired user certificate of an identity with `status`, or undefined. */
export function latestRetiredCertificate(
  db: Q,
  identity: string,
  status: Exclude<CertificateStatus, "active">,
): Promise<Certificate | undefined> {
  return db.selectFrom("certificates").selectAll().where("identity", "=", identity)
    .where("kind", "=", "user").where("status", "=", status)
    .orderBy("status_changed_at", "desc").limit(1).executeTakeFirst();
}

/** Certificates no longer valid, for the CRL. */
export function retiredCertificates(db: Q) {
  return db.selectFrom("certificates").select(["serial", "status", "status_changed_at"])
    .where("status", "in", ["revoked", "superseded"]).orderBy("status_changed_at").execute();
}

/** The stored CRL, or undefined before the first one. */
export function getCrl(db: Q) {
  return db.selectFrom("crl").selectAll().where("id", "=", 1).executeTakeFirst();
}

/** Stores the current CRL (replacing the previous one). */
export async function putCrl(
  tx: Q,
  c: { number: number; pem: string; thisUpdate: Date; nextUpdate: Date },
): Promise<void> {
  const values = {
    number: String(c.number),
    pem: c.pem,
    this_update: c.thisUpdate,
    next_update: c.nextUpdate,
  };
  await tx.insertInto("crl").values({ id: 1, ...values })
    .onConflict((oc) => oc.column("id").doUpdateSet(values)).execute();
}

// ── audit ───────────────────────────────────────────────────────────────────────────

/** Audit rows, newest first, optionally for one identity. */
export function auditEntries(db: Q, identity: string | undefined, limit: number) {
  let q = db.selectFrom("audit_log")
    .select(["id", "seq", "at", "actor", "op", "identity", "outcome", "details"]);
  if (identity !== undefined) q = q.where("identity", "=", identity);
  return q.orderBy("id", "desc").limit(limit).execute();
}

// ── nonces ──────────────────────────────────────────────────────────────────────────

/** Consumes a nonce in `scope`; false when it was used before. */
export async function consumeNonce(
  tx: Q,
  scope: string,
  nonce: string,
  expiresAt: Date | null,
): Promise<boolean> {
  const rows = await tx.insertInto("nonces").values({ scope, nonce, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(["scope", "nonce"]).doNothing()).returning("nonce").execute();
  return rows.length === 1;
}

// ── login attempts ──────────────────────────────────────────────────────────────────

/** Stores the server state of an OPAQUE login between start and finish. */
export async function putLoginAttempt(
  tx: Q,
  a: { id: string; identity: string; state: string; clientTag: string; expiresAt: Date },
): Promise<void> {
  await tx.insertInto("login_attempts").values({
    id: a.id,
    identity: a.identity,
    state: a.state,
    client_tag: a.clientTag,
    expires_at: a.expiresAt,
  }).execute();
}

/** Takes (deletes and returns) a login attempt: each loginId finishes at most once. */
export function takeLoginAttempt(tx: Q, id: string) {
  return tx.deleteFrom("login_attempts").where("id", "=", id)
    .returning(["identity", "state", "client_tag", "expires_at"]).executeTakeFirst();
}
