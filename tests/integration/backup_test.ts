/**
 * Backup and restore of the vault (docs/operations.md), on a real PostgreSQL with the
 * server's own `pg_dump` / `pg_restore`: a user registered and consented, another
 * pending; `pg_dump -Fc`; the original database dropped; restored into a fresh one;
 * a vault started on it with another master key refuses to start; with the original
 * master key the user signs in (OPAQUE) and gets their key record back, the pending
 * applicant's consent letter still opens, and `deno task admin audit verify` passes.
 */
import { ApiError } from "../../platform/mod.ts";
import {
  createTestDatabase,
  postgresAvailable,
  sqlAsAdmin,
  startStack,
  TEST_DATABASE_URL,
} from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";
import { assert } from "../fixtures/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The client tools of the server's major version (pg_dump refuses a newer server). */
async function pgTool(name: "pg_dump" | "pg_restore"): Promise<string | undefined> {
  const r = await sqlAsAdmin(TEST_DATABASE_URL, "show server_version_num");
  const major = Math.floor(Number(r.rows[0].server_version_num) / 10_000);
  for (
    const path of [`/usr/lib/postgresql/${major}/bin/${name}`, `/usr/pgsql-${major}/bin/${name}`]
  ) {
    if (await Deno.stat(path).then(() => true, () => false)) return path;
  }
  return undefined;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

const pg = await postgresAvailable();
const tools = pg ? { dump: await pgTool("pg_dump"), restore: await pgTool("pg_restore") } : {};
if (pg && !(tools.dump && tools.restore)) {
  console.warn("backup test skipped: no pg_dump/pg_restore matching the server's major version");
}

Deno.test({
  name:
    "[slow] backup: pg_dump of the vault restores into a fresh database with the same master key",
  ignore: !pg || !tools.dump || !tools.restore,
  fn: async (t) => {
    const original = await startStack({ db: "postgres" });
    const alice = await u.makeUser("backup-alice");
    const bob = await u.makeUser("backup-bob");
    const dumpDir = await Deno.makeTempDir({ prefix: "roamsign-backup-" });
    const dump = `${dumpDir}/vault.dump`;
    const master = original.secrets["vault-master.key"];
    let restored: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
    let auditRowsBefore = 0;
    try {
      await t.step("a registered user, a pending one, dumped with pg_dump -Fc", async () => {
        const web = original.webClient();
        const admin = original.adminClient();
        await u.apply(web, alice);
        const r = await u.consent(
          web,
          alice,
          await u.letterPhrase(admin, alice.registration.identity),
        );
        assert(r.status === "active", JSON.stringify(r));
        await u.apply(web, bob);
        const report = await admin.call("admin.audit.verify", {}) as { ok: boolean; rows: number };
        assert(report.ok && report.rows > 0, JSON.stringify(report));
        auditRowsBefore = report.rows;
        const d = await run(tools.dump!, ["-Fc", "--no-owner", "-f", dump, original.databaseUrl!]);
        assert(d.code === 0, d.text);
      });
      // The disaster: the original installation and its database are gone.
      await original.stop();

      await t.step("pg_restore into a fresh database", async () => {
        restored = await createTestDatabase();
        const r = await run(tools.restore!, [
          "--no-owner",
          "--no-privileges",
          "--exit-on-error",
          "-d",
          restored.url,
          dump,
        ]);
        assert(r.code === 0, r.text);
      });

      await t.step("with another master key the restored vault refuses to start", async () => {
        let failed = "";
        try {
          const wrong = await startStack({ databaseUrl: restored!.url });
          await wrong.stop();
        } catch (e) {
          failed = String(e);
        }
        assert(/does not open with this master key/.test(failed), failed || "it started");
      });

      await t.step(
        "with the same master key: sign-in, key record, letters, audit chain",
        async () => {
          const stack = await startStack({
            databaseUrl: restored!.url,
            env: { VAULT_MASTER_KEY: master },
          });
          try {
            const web = stack.webClient();
            const signedIn = await u.login(web, alice);
            assert(signedIn.ok, "OPAQUE sign-in after restore");
            const opened = await u.openKeyRecord(
              signedIn.keyRecord,
              signedIn.exportKey,
              alice.registration,
            );
            assert(opened.hashOk && opened.pkcs8.length > 1000, "the key record opens");
            const entry = await web.call("directory.get", {
              identity: alice.registration.identity,
            }) as { status: string };
            assert(entry.status === "active", JSON.stringify(entry));
            // Bob's letter was sealed under the master key: it opens, and his consent works.
            const phrase = await u.letterPhrase(stack.adminClient(), bob.registration.identity);
            const c = await u.consent(web, bob, phrase);
            assert(c.status === "active", JSON.stringify(c));
            // A wrong pass phrase is still refused.
            const wrong = await u.login(web, alice, "not the pass phrase").catch((e) => e);
            assert(
              (wrong as { ok?: boolean }).ok === false || wrong instanceof ApiError,
              "wrong pass phrase accepted",
            );
            const audit = await run(Deno.execPath(), [
              "run",
              "-A",
              `${ROOT}key-vault/admin.ts`,
              "audit",
              "verify",
              "--json",
            ], { DATA_DIR: stack.dataDir, PROXY_URL: stack.proxyUrl });
            assert(audit.code === 0, audit.text);
            const report = JSON.parse(audit.text) as { ok: boolean; rows: number };
            assert(report.ok && report.rows > auditRowsBefore, audit.text);
          } finally {
            await stack.stop();
          }
        },
      );
    } finally {
      await original.stop().catch(() => {});
      await restored?.drop();
      await Deno.remove(dumpDir, { recursive: true });
    }
  },
});
