/**
 * The `certificates` table: every certificate issued (user and server), the archive.
 *
 * @module
 */
import type { Certificate, CertificateStatus } from "../db.ts";
import type { Prepared, Q } from "./database.ts";

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

/**
 * directory.get in one prepared statement (the web server asks it for every submitted
 * signature): the user's latest user certificate, unless the user is still pending.
 */
const _DIRECTORY_GET = `
  select c.*
  from users u
  join lateral (
    select * from certificates
    where identity = u.identity and kind = 'user'
    order by issued_at desc limit 1
  ) c on true
  where u.identity = $1 and u.status <> 'pending'`;

/** The directory's certificate of an identity (prepared `directory_get`), or undefined. */
export async function directoryCertificate(
  query: Prepared,
  identity: string,
): Promise<Certificate | undefined> {
  const [cert] = await query<Certificate>("directory_get", _DIRECTORY_GET, [identity]);
  return cert;
}

/** A certificate by serial, or undefined. */
export function findCertificate(db: Q, serial: string): Promise<Certificate | undefined> {
  return db.selectFrom("certificates").selectAll().where("serial", "=", serial)
    .executeTakeFirst();
}

/** An active, unexpired server certificate for the key with this SPKI hash, or undefined. */
export function activeServerCertificate(
  db: Q,
  spkiSha256: string,
  now: Date,
): Promise<Certificate | undefined> {
  return db.selectFrom("certificates").selectAll()
    .where("kind", "=", "server").where("spki_sha256", "=", spkiSha256)
    .where("status", "=", "active").where("not_after", ">", now).executeTakeFirst();
}
