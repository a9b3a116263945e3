/**
 * Address and identity tags are keyed (docs/rate-limits.md): after sign-ins, failed
 * sign-ins, a consent and a refused operation from known client addresses, a dump of
 * every table of the vault's database holds no unkeyed SHA-256 of any of those
 * addresses or identities — neither of the bare value nor of the domain-separated forms
 * the code has used, in hex or base64url, whole or as a 16-character prefix. Anyone with
 * a dump would otherwise reverse the whole IPv4 space in a few CPU-hours.
 */
import { createHash } from "node:crypto";
import { b64uEncode } from "../../protocol/mod.ts";
import { ApiError } from "../../platform/mod.ts";
import { assertOk } from "../fixtures/assert.ts";
import { postgresAvailable, sqlAsAdmin, startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";

/** Every unkeyed hash of `value` a tag could have been made of, as searchable text. */
function unkeyedHashes(value: string): string[] {
  const forms = [
    value,
    `roamsign/address\u0000${value}`,
    `roamsign/identity\u0000${value}`,
    `address\u0000${value}`,
    `identity\u0000${value}`,
  ];
  return forms.flatMap((f) => {
    const d = createHash("sha256").update(f).digest();
    // A 16-character prefix catches truncated tags (16 or 32 hex digits).
    return [d.toString("hex").slice(0, 16), b64uEncode(new Uint8Array(d)).slice(0, 16)];
  });
}

/** Every row of every table in the public schema, as JSON text. */
async function dumpDatabase(url: string): Promise<string> {
  const tables = await sqlAsAdmin(
    url,
    "select table_name from information_schema.tables where table_schema = 'public'",
  );
  const parts: string[] = [];
  for (const { table_name } of tables.rows as { table_name: string }[]) {
    const r = await sqlAsAdmin(url, `select row_to_json(t)::text as j from "${table_name}" t`);
    for (const row of r.rows as { j: string }[]) parts.push(`${table_name}: ${row.j}`);
  }
  return parts.join("\n");
}

Deno.test({
  name: "a database dump holds no unkeyed hash of a client address or identity",
  ignore: !(await postgresAvailable()),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const stack = await startStack({ db: "postgres" });
    try {
      const web = stack.webClient();
      const alice = await u.makeUser("tagalice", { address: "198.51.100.41" });
      await u.apply(web, alice);
      await u.consent(web, alice, await u.letterPhrase(stack.adminClient(), "tagalice"));
      assertOk((await u.login(web, alice)).ok);
      // Failed sign-ins from another address: backoff and identity-window rows.
      const mallory = "203.0.113.41";
      for (let i = 0; i < 3; i++) {
        assertOk(!(await u.login(web, { ...alice, address: mallory }, "a wrong guess")).ok);
      }
      // A refused operation: its audit row carries the client tag.
      const refused = await web.call("consent", {
        registration: { ...alice.registration, identity: "tagnobody" },
        phrase: "wrong wrong wrong wrong",
      }, { clientAddress: mallory }).then(() => "ok", (e) => e instanceof ApiError && e.code);
      assertOk(refused !== "ok", String(refused));

      const dump = await dumpDatabase(stack.databaseUrl!);
      assertOk(dump.includes("tagalice"), "the dump has the rows");
      const leaks: string[] = [];
      for (const value of [alice.address, mallory, "tagalice", "tagnobody"]) {
        for (const h of unkeyedHashes(value)) {
          const at = dump.indexOf(h);
          if (at >= 0) {
            leaks.push(`${value} → ${h} in ${dump.slice(dump.lastIndexOf("\n", at) + 1, at + 40)}`);
          }
        }
      }
      assertOk(leaks.length === 0, `unkeyed hashes in the dump:\n${leaks.join("\n")}`);
    } finally {
      await stack.stop();
    }
  },
});
