/**
 * The vault's loaded state: database (migrated), the OPAQUE server setup, the CA key,
 * the statement key, the time-stamping authority's key and certificate (tsa.ts) and the
 * key of the address and identity tags, all created on first
 * start and kept sealed under the master key
 * (`vault_secrets`), and the sealer for consent letters. Several vaults starting at
 * once agree: the first insert wins and everyone re-reads it.
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import type { Kysely } from "kysely";
import { type Ca, createCa, loadCa } from "./ca.ts";
import type { VaultConfig } from "./config.ts";
import { type Database, type Db, openDb } from "./db.ts";
import { migrateToLatest } from "./migrate.ts";
import * as repo from "./repositories/mod.ts";
import { createSealer, type Sealer } from "./seal.ts";
import { createStatementKey, loadStatementKey, type StatementKey } from "./statements.ts";
import type { Anchors } from "../protocol/mod.ts";
import { b64uEncode } from "../protocol/mod.ts";
import { parseCertificate, pemDecode } from "../protocol/mod.ts";
import { createTagger, type Tagger } from "./guard.ts";
import { createTsa, loadTsa, type Tsa } from "./tsa.ts";

/** A running vault's state. */
export interface VaultState {
  db: Kysely<Database>;
  dbKind: Db["kind"];
  /** Hot-path statements (prepared on PostgreSQL); see {@link Db.query}. */
  query: Db["query"];
  /** OPAQUE server setup (the library takes and keeps it as text). */
  opaqueSetup: string;
  ca: Ca;
  /** The vault's statement key (docs/trust-anchors.md), pinned in the applet. */
  statementKey: StatementKey;
  /** The time-stamping authority (key-vault/tsa.ts), its certificate from `ca`. */
  tsa: Tsa;
  /** The public values the applet pins: what `DATA_DIR/anchors/vault.json` holds. */
  anchors: Omit<Anchors, "hosts" | "v">;
  letters: Sealer;
  /** Keyed tags of client addresses and identities (guard state, audit details). */
  tags: Tagger;
  config: VaultConfig;
  close(): Promise<void>;
}

async function _loadOrCreate(
  db: Kysely<Database>,
  sealer: Sealer,
  name: string,
  create: () => Promise<{ secret: Uint8Array; publicValue?: string }>,
): Promise<{ secret: Uint8Array; publicValue: string | null }> {
  let row = await repo.findVaultSecret(db, name);
  if (!row) {
    const made = await create();
    const sealed = await sealer.seal(name, made.secret);
    made.secret.fill(0);
    await repo.insertVaultSecretIfAbsent(db, {
      name,
      sealed,
      publicValue: made.publicValue ?? null,
      createdAt: new Date(),
    });
    row = await repo.findVaultSecret(db, name);
    if (!row) throw new Error(`vault: ${name} vanished after its insert`);
  }
  if (!row.sealed) throw new Error(`vault: ${name} has no sealed value`);
  return { secret: await sealer.open(name, row.sealed), publicValue: row.public_value };
}

/** Opens the database, migrates, and loads (or creates) the sealed secrets. */
export async function openVaultState(
  config: VaultConfig,
  masterKey: Uint8Array,
  dbOverride?: Db,
): Promise<VaultState> {
  const handle = dbOverride ??
    await openDb({
      url: config.databaseUrl,
      pgliteDir: config.databaseUrl ? undefined : `${config.dataDir}/pg`,
      poolSize: config.poolSize,
    });
  try {
    await migrateToLatest(handle.db);
    await opaque.ready;
    const secrets = await createSealer(masterKey, "vault secrets v1");
    const letters = await createSealer(masterKey, "consent letters v1");

    const setup = await _loadOrCreate(handle.db, secrets, "opaque-server-setup", () => {
      return Promise.resolve({ secret: new TextEncoder().encode(opaque.server.createSetup()) });
    });
    const opaqueSetup = new TextDecoder().decode(setup.secret);
    setup.secret.fill(0);

    const caSecret = await _loadOrCreate(handle.db, secrets, "ca-key", async () => {
      const made = await createCa();
      return { secret: made.pkcs8, publicValue: made.pem };
    });
    const ca = await loadCa(caSecret.secret, caSecret.publicValue ?? "");
    caSecret.secret.fill(0);

    const stmtSecret = await _loadOrCreate(handle.db, secrets, "vault-statement-key", async () => {
      const made = await createStatementKey();
      return { secret: made.pkcs8, publicValue: made.spki };
    });
    const statementKey = await loadStatementKey(stmtSecret.secret, stmtSecret.publicValue ?? "");
    stmtSecret.secret.fill(0);
    const tsaSecret = await _loadOrCreate(handle.db, secrets, "tsa-key", async () => {
      const made = await createTsa(ca);
      return { secret: made.pkcs8, publicValue: made.pem };
    });
    const tsa = await loadTsa(tsaSecret.secret, tsaSecret.publicValue ?? "");
    tsaSecret.secret.fill(0);
    const caSpki = parseCertificate(pemDecode(ca.pem)).spki;
    const anchors = {
      caSpkiSha256: b64uEncode(
        new Uint8Array(await crypto.subtle.digest("SHA-256", caSpki as BufferSource)),
      ),
      vaultSigningSpki: statementKey.spki,
      opaqueServerPublicKey: opaque.server.getPublicKey(opaqueSetup),
    };
    const tagKey = await _loadOrCreate(handle.db, secrets, "tag-key", () => {
      return Promise.resolve({ secret: crypto.getRandomValues(new Uint8Array(32)) });
    });
    const tags = createTagger(tagKey.secret);
    tagKey.secret.fill(0);

    return {
      db: handle.db,
      dbKind: handle.kind,
      query: handle.query,
      opaqueSetup,
      ca,
      statementKey,
      tsa,
      anchors,
      letters,
      tags,
      config,
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}
