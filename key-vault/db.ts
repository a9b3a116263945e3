/**
 * The vault's database: table types (kysely `Database` interface) and the connection.
 * PGlite in `DATA_DIR/pg` by default; `DATABASE_URL=postgres://…` uses a PostgreSQL
 * server through `pg` and kysely's own `PostgresDialect`. Same SQL, same migrations.
 *
 * Binary values are stored as base64url text and hashes as lower-case hex, so both
 * drivers hand back the same JavaScript types.
 *
 * @module
 */
import {
  type ColumnType,
  CompiledQuery,
  type Generated,
  type Insertable,
  Kysely,
  PostgresDialect,
  type Selectable,
} from "kysely";
import { PGlite } from "@electric-sql/pglite";
import { PGliteDialect } from "kysely-pglite-dialect";
import pg from "pg";

type Timestamp = ColumnType<Date, Date, Date>;

/** Account states. */
export type UserStatus = "pending" | "active" | "revoked";
/** Certificate states (the archive keeps every one). */
export type CertificateStatus = "active" | "superseded" | "revoked";

export interface UsersTable {
  identity: string;
  full_name: string;
  account_number: string;
  address: string;
  status: UserStatus;
  created_at: Timestamp;
  updated_at: Timestamp;
  activated_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface KeyRecordsTable {
  identity: string;
  /** Canonical JSON of the key record v1 (never plaintext key material). */
  record: string;
  spki_sha256: string;
  /** Canonical JSON of the argon2id parameters the vault set (login.start hands them out). */
  ksf_params: string;
  updated_at: Timestamp;
  /**
   * A `registration.update` not yet confirmed by a sign-in (docs/lifecycle.md, "Pending
   * key record"): canonical JSON of its record and of its registration data.
   */
  pending_record: string | null;
  pending_registration: string | null;
  pending_at: Timestamp | null;
  /** Hex SHA-256 of the `login.confirm` MAC expected from the last sign-in, and its expiry. */
  pending_confirm: string | null;
  pending_confirm_expires_at: Timestamp | null;
}

export interface OpaqueRecordsTable {
  identity: string;
  registration_record: string;
  updated_at: Timestamp;
}

export interface ConsentsTable {
  identity: string;
  /** The applicant's public key (SubjectPublicKeyInfo DER, base64url). */
  spki: string;
  /** `E_CPU(record)`: base64url(salt ‖ iv ‖ AES-256-GCM ciphertext). */
  wrapped_record: string;
  /** Hex SHA-256 of the inner record (canonical JSON). */
  record_sha256: string;
  attempts: ColumnType<number, number | undefined, number>;
  expires_at: Timestamp;
  letter_status: "queued" | "sent";
  /** The consent phrase sealed under the vault master key, until the letter is sent. */
  letter_sealed: string | null;
  letter_sent_at: Timestamp | null;
  created_at: Timestamp;
}

export interface CertificatesTable {
  serial: string;
  identity: string | null;
  kind: "user" | "server";
  subject: string;
  spki_sha256: string;
  pem: string;
  status: CertificateStatus;
  not_before: Timestamp;
  not_after: Timestamp;
  issued_at: Timestamp;
  status_changed_at: Timestamp | null;
  revocation_reason: string | null;
}

export interface NoncesTable {
  scope: string;
  nonce: string;
  /** Null: kept for good (user-signed requests carry no timestamp). */
  expires_at: Timestamp | null;
}

export interface LoginAttemptsTable {
  id: string;
  identity: string;
  state: string;
  client_tag: string;
  expires_at: Timestamp;
}

export interface RateLimitsTable {
  key: string;
  window_start: Timestamp;
  hits: number;
  blocked_until: Timestamp | null;
}

export interface KnownAddressesTable {
  identity: string;
  address_tag: string;
  last_success_at: Timestamp;
}

export interface VaultSecretsTable {
  name: string;
  /** Sealed under the master key (base64url), or null for public values. */
  sealed: string | null;
  public_value: string | null;
  created_at: Timestamp;
}

export interface AuditLogTable {
  /** int8: the drivers return text or number; read through `Number()`. */
  id: Generated<string | number>;
  at: Timestamp;
  actor: string;
  op: string;
  identity: string | null;
  outcome: string;
  /** Canonical JSON, nothing secret. */
  details: string;
  seq: string | number | null;
  prev_hash: string | null;
  hash: string | null;
}

/** The current CRL (one row, id = 1). */
export interface CrlTable {
  id: number;
  /** int8: the drivers return text or number; read through `Number()`. */
  number: string | number;
  pem: string;
  this_update: Timestamp;
  next_update: Timestamp;
}

/** Outcomes of operations retried with an idempotency key (docs/faults.md). */
export interface IdempotencyKeysTable {
  identity: string;
  op: string;
  key: string;
  /** Hex SHA-256 of the request without its nonce and signature. */
  request_sha256: string;
  /** Canonical JSON of what the operation returned (null until it finished). */
  outcome: string | null;
  /** The certificate whose key signed the request (signed operations). */
  signer_serial: string | null;
  created_at: Timestamp;
}

/** Proofs of a fresh OPAQUE login for re-authentication (docs/lifecycle.md). */
export interface ReauthProofsTable {
  /** The `loginId` of the finished login. */
  login_id: string;
  identity: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  /** When a `reregister` or `revoke` used it (single use); null while unused. */
  consumed_at: Timestamp | null;
  /** The operation that used it. */
  consumed_by: string | null;
}

/** A WebAuthn credential of an identity and its key-record slot (docs/passkeys.md). */
export interface PasskeysTable {
  /** base64url credential id. */
  credential_id: string;
  identity: string;
  /** base64url COSE public key. */
  public_key: string;
  /** The authenticator's signature counter last seen (0: it keeps none). */
  counter: ColumnType<string | number, number, number>;
  /** JSON array of the transports the browser reported. */
  transports: string;
  name: string;
  /** JSON of the passkey slot (protocol/key_record_v2.ts `PasskeySlot`). */
  slot: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
}

/** Challenges the vault issued for a passkey, single use (docs/passkeys.md). */
export interface PasskeyChallengesTable {
  id: string;
  purpose: "register" | "login";
  /** The identity it is for (null: a sign-in with a discoverable credential). */
  identity: string | null;
  /** base64url challenge bytes. */
  challenge: string;
  /** The applet's session binding it was issued for. */
  binding: string;
  client_tag: string;
  expires_at: Timestamp;
}

/** The vault's tables. */
export interface Database {
  users: UsersTable;
  key_records: KeyRecordsTable;
  opaque_records: OpaqueRecordsTable;
  consents: ConsentsTable;
  certificates: CertificatesTable;
  nonces: NoncesTable;
  login_attempts: LoginAttemptsTable;
  rate_limits: RateLimitsTable;
  known_addresses: KnownAddressesTable;
  vault_secrets: VaultSecretsTable;
  audit_log: AuditLogTable;
  crl: CrlTable;
  idempotency_keys: IdempotencyKeysTable;
  reauth_proofs: ReauthProofsTable;
  passkeys: PasskeysTable;
  passkey_challenges: PasskeyChallengesTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type Consent = Selectable<ConsentsTable>;
export type Certificate = Selectable<CertificatesTable>;
export type Passkey = Selectable<PasskeysTable>;
export type PasskeyChallenge = Selectable<PasskeyChallengesTable>;
export type AuditRow = Selectable<AuditLogTable>;

/** Where the data lives. */
export interface DbOptions {
  /** `postgres://…`; when absent, PGlite. */
  url?: string;
  /** PGlite data directory; absent with no `url`: in memory (tests). */
  pgliteDir?: string;
  /** Pool size for PostgreSQL (default 10). */
  poolSize?: number;
}

/** An open database. */
export interface Db {
  db: Kysely<Database>;
  kind: "pglite" | "postgres";
  /**
   * Runs one hot-path statement outside kysely, as a named prepared statement on
   * PostgreSQL (parsed and planned once per connection, which measurably cuts the
   * server's CPU per request; see bench/vault_load.ts) and as a plain query on PGlite.
   * Autocommit: use it only for statements that are atomic on their own.
   */
  query<T>(name: string, text: string, values: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Opens the database described by `options`. */
export async function openDb(options: DbOptions): Promise<Db> {
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    // A dropped connection must not crash the process: the next query reports it. The
    // pool's listener covers idle clients only; a client checked out (a transaction
    // between two statements) emits the error itself, and an `error` event nobody listens
    // to is uncaught (key-vault/db_test.ts; the crash matrix saw the vault die of it).
    pool.on("error", () => {});
    pool.on("connect", (client: pg.PoolClient) => client.on("error", () => {}));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: "postgres",
      query: async <T>(name: string, text: string, values: unknown[]) =>
        (await pool.query({ name, text, values })).rows as T[],
      close: () => db.destroy(),
    };
  }
  const client = options.pgliteDir ? new PGlite(options.pgliteDir) : new PGlite();
  await client.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  return {
    db,
    kind: "pglite",
    // PGlite is one connection: go through kysely's queue so nothing interleaves with
    // an open transaction.
    query: async <T>(_name: string, text: string, values: unknown[]) =>
      (await db.executeQuery<T>(CompiledQuery.raw(text, values))).rows,
    close: () => db.destroy(),
  };
}

/** True for errors that mean "the database is not reachable right now". */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  if (typeof code === "string") {
    if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND"].includes(code)) {
      return true;
    }
    // 08xxx connection exceptions, 57P01..03 admin shutdown / crash / cannot connect now, 3D000 no such database.
    if (/^08/.test(code) || /^57P0[123]$/.test(code) || code === "3D000" || code === "53300") {
      return true;
    }
  }
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i
    .test(err.message);
}
