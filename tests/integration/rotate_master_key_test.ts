/**
 * `deno task rotate-master-key` against a real vault's data (PostgreSQL, or PGlite):
 * with the vault stopped, the sealed secrets and the unsent consent letters are
 * re-wrapped under a fresh key; the vault starts again on the new key file; users
 * still sign in and the pending applicant's letter still opens, and the key of the
 * address tags (a sealed secret like the others) still gives the same tags. A database whose
 * values do not open under the current key is left untouched (exit 1).
 */
import { postgresAvailable, sqlAsAdmin, startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";
import { assert } from "../fixtures/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function rotate(env: Record<string, string>, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}key-vault/rotate_master_key.ts`, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, text: d.decode(out.stdout) + d.decode(out.stderr) };
}

// PostgreSQL when there is one (quicker to start than PGlite); PGlite otherwise.
const db = await postgresAvailable() ? "postgres" : "pglite";

Deno.test("rotate-master-key re-wraps the vault's secrets and letters; the vault restarts on the new key", async (t) => {
  const stack = await startStack({ db });
  const dbEnv: Record<string, string> = stack.databaseUrl
    ? { DATABASE_URL: stack.databaseUrl }
    : {};
  const keyFile = `${stack.dataDir}/secrets/vault-master.key`;
  try {
    const web = stack.webClient();
    const alice = await u.makeUser("rotate-alice");
    const bob = await u.makeUser("rotate-bob");
    await u.apply(web, alice);
    await u.consent(web, alice, await u.letterPhrase(stack.adminClient(), "rotate-alice"));
    await u.apply(web, bob);
    const before = await Deno.readTextFile(keyFile);
    // Alice's consent made her address known, under its keyed tag.
    const knownTags = async () =>
      stack.databaseUrl
        ? (await sqlAsAdmin(
          stack.databaseUrl,
          "select address_tag from known_addresses where identity = 'rotate-alice'",
        )).rows.map((r: { address_tag: string }) => r.address_tag)
        : undefined;
    const tagsBefore = await knownTags();

    await t.step("with the vault stopped: re-wrapped, old key retired", async () => {
      await stack.stopVault();
      const r = await rotate({ DATA_DIR: stack.dataDir, ...dbEnv });
      assert(r.code === 0, r.text);
      assert(/re-wrapped 5 secrets and 1 letters/.test(r.text), r.text);
      const after = await Deno.readTextFile(keyFile);
      assert(after.trim() !== before.trim() && after.trim().length >= 43, "a new key");
      const files = [...Deno.readDirSync(`${stack.dataDir}/secrets`)].map((e) => e.name);
      const retired = files.find((f) => f.startsWith("vault-master.key.retired-"));
      assert(retired, files.join());
      assert((await Deno.readTextFile(`${stack.dataDir}/secrets/${retired}`)) === before, "kept");
      assert(((await Deno.stat(keyFile)).mode! & 0o077) === 0, "new key file is 0600");
    });

    await t.step("with the old key the database no longer opens: nothing changes", async () => {
      const r = await rotate(
        { DATA_DIR: stack.dataDir, ...dbEnv, VAULT_MASTER_KEY: before.trim() },
        "--out",
        `${stack.dataDir}/k2`,
      );
      assert(r.code === 1 && /nothing changed/.test(r.text), r.text);
      assert(
        !(await Deno.stat(`${stack.dataDir}/k2`).then(() => true, () => false)),
        "no key left",
      );
    });

    await t.step("the vault starts on the new key: sign-in and letters work", async () => {
      await stack.startVault();
      const signedIn = await u.login(web, alice);
      assert(signedIn.ok, "sign-in");
      // The same address gets the same tag: no second known-address row.
      const tagsAfter = await knownTags();
      assert(
        JSON.stringify(tagsAfter) === JSON.stringify(tagsBefore),
        `${tagsBefore} → ${tagsAfter}`,
      );
      assert(!tagsBefore || tagsBefore.length === 1, String(tagsBefore));
      const phrase = await u.letterPhrase(stack.adminClient(), "rotate-bob");
      const c = await u.consent(web, bob, phrase);
      assert(c.status === "active", JSON.stringify(c));
    });
  } finally {
    await stack.stop();
  }
});
