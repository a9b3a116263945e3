/**
 * `deno task rotate-master-key`: re-wraps everything the vault keeps sealed under its
 * master key (docs/operations.md, "Rotating keys") under a fresh one, in one
 * transaction: the sealed secrets (`vault_secrets`: OPAQUE server setup, CA key, statement key, TSA key,
 * tag key) and
 * the consent letters not yet posted (`consents.letter_sealed`).
 *
 * Stop every vault first (they hold keys derived from the old master key and would
 * seal new letters under it), then run it with the vault's environment (`DATA_DIR`,
 * `DATABASE_URL`):
 *
 *   deno task rotate-master-key            # key in DATA_DIR/secrets/vault-master.key
 *   deno task rotate-master-key --out FILE # key from VAULT_MASTER_KEY: the new one goes to FILE
 *
 * With the key file: the new key is written to `vault-master.key.new` (0600) before the
 * transaction commits; after the commit the old file becomes
 * `vault-master.key.retired-<UTC time>` and the new one takes its place. Keep the
 * retired key with the backups made before the rotation (they need it) and destroy it
 * when they expire. If the process dies between commit and rename, the database is
 * already under the `.new` key: rename it by hand. Exit codes: 0 done, 1 failed
 * (nothing changed), 2 usage.
 *
 * @module
 */
import type { Kysely } from "kysely";
import { b64uEncode } from "../protocol/mod.ts";
import { readSecret } from "../platform/mod.ts";
import { rotateConfigFromEnv } from "./config.ts";
import { type Database, openDb } from "./db.ts";
import { pendingMigrations } from "./migrate.ts";
import * as repo from "./repositories/mod.ts";
import { createSealer } from "./seal.ts";

/** What a rotation re-wrapped. */
export interface RewrapReport {
  secrets: number;
  letters: number;
}

/**
 * Re-seals every sealed value from `oldKey` to `newKey` in one transaction; throws
 * (and changes nothing) if any value does not open under `oldKey`.
 */
export async function rewrapMasterKey(
  db: Kysely<Database>,
  oldKey: Uint8Array,
  newKey: Uint8Array,
): Promise<RewrapReport> {
  const [oldSecrets, newSecrets, oldLetters, newLetters] = await Promise.all([
    createSealer(oldKey, "vault secrets v1"),
    createSealer(newKey, "vault secrets v1"),
    createSealer(oldKey, "consent letters v1"),
    createSealer(newKey, "consent letters v1"),
  ]);
  return await db.transaction().execute(async (tx) => {
    const report: RewrapReport = { secrets: 0, letters: 0 };
    const secrets = await repo.lockSealedSecrets(tx);
    for (const row of secrets) {
      const plain = await oldSecrets.open(row.name, row.sealed!);
      const sealed = await newSecrets.seal(row.name, plain);
      plain.fill(0);
      await repo.setSealedSecret(tx, row.name, sealed);
      report.secrets++;
    }
    const letters = await repo.lockSealedLetters(tx);
    for (const row of letters) {
      const plain = await oldLetters.open(row.identity, row.letter_sealed!);
      const sealed = await newLetters.seal(row.identity, plain);
      plain.fill(0);
      await repo.setLetterSealed(tx, row.identity, sealed);
      report.letters++;
    }
    return report;
  });
}

async function _writeNew(path: string, key: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  try {
    await file.write(new TextEncoder().encode(b64uEncode(key) + "\n"));
    await file.sync();
  } finally {
    file.close();
  }
}

/** Runs the CLI; returns the exit code. */
export async function runRotateMasterKey(
  args: string[],
  out: (s: string) => void = console.log,
  err: (s: string) => void = console.error,
): Promise<number> {
  let outPath: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--out" && args[i + 1]) outPath = args[++i];
    else {
      err("usage: deno task rotate-master-key [--out <file>]");
      return 2;
    }
  }
  const { vault: config, masterKeyInEnv } = rotateConfigFromEnv();
  if (masterKeyInEnv && !outPath) {
    err(
      "rotate-master-key: the key comes from VAULT_MASTER_KEY; give --out <file> for the new one",
    );
    return 2;
  }
  const keyFile = `${config.dataDir}/secrets/vault-master.key`;
  const target = outPath ?? `${keyFile}.new`;
  const pgliteDir = `${config.dataDir}/pg`;
  if (!config.databaseUrl && !(await Deno.stat(pgliteDir).then(() => true, () => false))) {
    err(`rotate-master-key: no vault database here (DATABASE_URL unset, no ${pgliteDir})`);
    return 1;
  }
  const oldKey = await readSecret("vault-master.key", config.dataDir);
  const newKey = crypto.getRandomValues(new Uint8Array(32));
  const handle = await openDb({
    url: config.databaseUrl,
    pgliteDir: config.databaseUrl ? undefined : pgliteDir,
    poolSize: 1,
  });
  try {
    const pending = await pendingMigrations(handle.db).catch(() => ["all"]);
    if (pending.length) {
      err("rotate-master-key: this database is not a current vault database (start a vault first)");
      return 1;
    }
    try {
      await _writeNew(target, newKey);
    } catch (e) {
      err(`rotate-master-key: cannot create ${target}: ${(e as Error).message}`);
      return 1;
    }
    let report: RewrapReport;
    try {
      report = await rewrapMasterKey(handle.db, oldKey, newKey);
    } catch (e) {
      await Deno.remove(target).catch(() => {});
      err(`rotate-master-key: nothing changed: ${(e as Error).message}`);
      return 1;
    }
    if (!outPath) {
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      await Deno.rename(keyFile, `${keyFile}.retired-${stamp}`);
      await Deno.rename(target, keyFile);
      out(
        `re-wrapped ${report.secrets} secrets and ${report.letters} letters; ` +
          `${keyFile} is the new key, the old one is ${keyFile}.retired-${stamp} ` +
          "(keep it with older backups only)",
      );
    } else {
      out(
        `re-wrapped ${report.secrets} secrets and ${report.letters} letters; the new key is ` +
          `in ${target}: set VAULT_MASTER_KEY from it before starting the vaults`,
      );
    }
    return 0;
  } finally {
    oldKey.fill(0);
    newKey.fill(0);
    await handle.close();
  }
}

if (import.meta.main) Deno.exit(await runRotateMasterKey(Deno.args));
