/**
 * `deno task admin` against real processes: the operator's views, letters, consent
 * reset, revoke, and `audit verify` catching a row edited directly in PostgreSQL. First,
 * in process and without any process running: usage errors name what is missing.
 */
import { ApiError } from "../../platform/mod.ts";
import { generateConsentPhrase } from "../../protocol/mod.ts";
import { postgresAvailable, sqlAsAdmin, type Stack, startStack } from "../../harness/mod.ts";
import * as u from "../../harness/mod.ts";
import { assert, assertEquals } from "../fixtures/assert.ts";
import { runAdmin } from "../../key-vault/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function admin(stack: Stack, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}key-vault/admin.ts`, ...args],
    env: { DATA_DIR: stack.dataDir, PROXY_URL: stack.proxyUrl },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Runs the CLI in process against nothing: no secret file, no proxy. */
async function adminOffline(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const dataDir = await Deno.makeTempDir();
  try {
    const code = await runAdmin(args, (s) => out.push(s), (s) => err.push(s), {
      dataDir,
      proxyUrl: "http://127.0.0.1:9",
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("admin: a missing argument is named, with that command's usage line, exit 2", async () => {
  const cases: [string[], string, string][] = [
    [["revoke", "carol"], "admin revoke: missing --reason <text>", "revoke <identity> --reason"],
    [["revoke", "carol", "--reason"], "admin revoke: --reason needs a value <text>", "revoke"],
    [["revoke", "--reason", "stolen"], "admin revoke: missing <identity>", "revoke"],
    [["revoke", "carol", "--by"], "admin revoke: --by needs a value <operator>", "revoke"],
    [["consent-reset"], "admin consent-reset: missing <identity>", "consent-reset <identity>"],
    [["letters", "sent"], "admin letters sent: missing <identity>", "letters sent <identity>"],
    [["letters", "posted"], 'admin letters: unknown subcommand "posted" (one of: sent)', "letters"],
    [["audit"], "admin audit: missing subcommand (one of: log, verify)", "audit log"],
    [["audit", "show"], 'admin audit: unknown subcommand "show" (one of: log, verify)', "audit"],
    [["audit", "log", "--limit"], "admin audit: --limit needs a value <n>", "audit log"],
    [["audit", "log", "--limit", "0"], "admin audit: --limit must be an integer in 1..1000", ""],
  ];
  for (const [args, message, usage] of cases) {
    const r = await adminOffline(...args);
    assertEquals(r.code, 2, args.join(" "));
    const [first, second] = r.err.split("\n");
    assertEquals(first.startsWith(message), true, `${args.join(" ")}: ${r.err}`);
    assert(second?.startsWith("usage: deno task admin "), r.err);
    assert(second.includes(usage), r.err);
    assert(!r.err.includes("users [--json]") || args[0] === "users", `the whole usage: ${r.err}`);
  }
  const unknown = await adminOffline("frobnicate");
  assertEquals(unknown.code, 2);
  assert(
    unknown.err.startsWith('admin: unknown command "frobnicate" (one of: users,'),
    unknown.err,
  );
  // A complete command line gets past the check: to the missing secret (exit 1, not 2).
  const complete = await adminOffline("revoke", "carol", "--reason", "reported stolen");
  assertEquals(complete.code, 1, complete.err);
  // No command at all, or help: the whole usage.
  assertEquals((await adminOffline()).code, 2);
  assert((await adminOffline("help")).out.includes("audit verify [--json]"));
});

Deno.test({
  name: "admin CLI through the proxy (PostgreSQL)",
  ignore: !(await postgresAvailable()),
  fn: async (t) => {
    const stack = await startStack({ db: "postgres" });
    const web = stack.webClient();
    try {
      const carol = await u.makeUser("carol", {
        registration: { fullName: "Carol Shaw", address: "7 Elm Row, Leeds" },
      });
      await u.apply(web, carol);

      await t.step("pending and users list the application", async () => {
        const pending = await admin(stack, "pending");
        assert(
          pending.code === 0 && pending.stdout.includes("carol"),
          pending.stdout + pending.stderr,
        );
        const users = JSON.parse((await admin(stack, "users", "--json")).stdout);
        assert(
          users.some((x: { identity: string; status: string }) =>
            x.identity === "carol" && x.status === "pending"
          ),
        );
      });

      let phrase = "";
      await t.step("letters --json gives identity, name, address and phrase", async () => {
        const r = await admin(stack, "letters", "--json");
        assert(r.code === 0, r.stderr);
        const letter = JSON.parse(r.stdout).find((l: { identity: string }) =>
          l.identity === "carol"
        );
        assert(letter.fullName === "Carol Shaw" && letter.address === "7 Elm Row, Leeds");
        phrase = letter.phrase;
        assert(/^([0-9A-Z]{5}-){3}[0-9A-Z]{5}$/.test(phrase), phrase);
        const human = await admin(stack, "letters");
        assert(human.stdout.includes(`Consent phrase: ${phrase}`));
      });

      await t.step("five wrong phrases lock consent until consent-reset", async () => {
        // From five addresses, so that the per-address backoff does not stop them first.
        for (let i = 0; i < 5; i++) {
          const from = { ...carol, address: `198.51.100.${100 + i}` };
          await u.consent(web, from, generateConsentPhrase().text).then(
            () => assert(false, "a random phrase was accepted"),
            (e) =>
              assert(
                e instanceof ApiError && /wrong_phrase|consent_locked/.test(e.code),
                String(e),
              ),
          );
        }
        try {
          await u.consent(web, { ...carol, address: "198.51.100.200" }, phrase);
          throw new Error("consent accepted while locked");
        } catch (e) {
          assert(e instanceof ApiError && e.code === "consent_locked", String(e));
        }
        const reset = await admin(stack, "consent-reset", "carol");
        assert(reset.code === 0, reset.stderr);
        const ok = await u.consent(web, { ...carol, address: "198.51.100.200" }, phrase);
        assert(ok.status === "active");
      });

      await t.step("letters sent forgets the phrase", async () => {
        const dave = await u.makeUser("dave");
        await u.apply(web, dave);
        const sent = await admin(stack, "letters", "sent", "dave");
        assert(sent.code === 0, sent.stderr);
        const r = JSON.parse((await admin(stack, "letters", "--json")).stdout);
        assert(!r.some((l: { identity: string }) => l.identity === "dave"));
        const rows = await sqlAsAdmin(
          stack.databaseUrl!,
          "select letter_sealed from consents where identity = 'dave'",
        );
        assert(rows.rows[0].letter_sealed === null);
      });

      await t.step("revoke needs a reason, then revokes", async () => {
        const noReason = await admin(stack, "revoke", "carol");
        assert(
          noReason.code === 2 && noReason.stderr.includes("missing --reason"),
          noReason.stderr,
        );
        const r = await admin(stack, "revoke", "carol", "--reason", "reported stolen");
        assert(r.code === 0 && r.stdout.includes("carol revoked"), r.stdout + r.stderr);
        const left = await sqlAsAdmin(
          stack.databaseUrl!,
          "select count(*)::int as n from key_records where identity = 'carol'",
        );
        assert(left.rows[0].n === 0, "key record erased");
        const audit = await sqlAsAdmin(
          stack.databaseUrl!,
          "select details from audit_log where op = 'admin.revoke'",
        );
        assert(audit.rows[0].details.includes("reported stolen"));
      });

      await t.step(
        "audit verify passes, then detects a row edited directly in the database",
        async () => {
          const ok = await admin(stack, "audit", "verify");
          assert(ok.code === 0 && ok.stdout.includes("audit chain intact"), ok.stdout + ok.stderr);
          await sqlAsAdmin(
            stack.databaseUrl!,
            `alter table audit_log disable trigger audit_log_append_only;
           update audit_log set outcome = 'pending' where op = 'admin.revoke';
           alter table audit_log enable trigger audit_log_append_only;`,
          );
          const broken = await admin(stack, "audit", "verify");
          assert(
            broken.code === 1 && broken.stderr.includes("BROKEN"),
            broken.stdout + broken.stderr,
          );
          assert(/row \d+: row content does not match its hash/.test(broken.stderr), broken.stderr);
        },
      );

      await t.step("usage errors exit 2; refused operations exit 1", async () => {
        assert((await admin(stack)).code === 2);
        assert((await admin(stack, "frobnicate")).code === 2);
        const r = await admin(stack, "consent-reset", "nobody");
        assert(r.code === 1 && r.stderr.includes("no_application"), r.stderr);
      });
    } finally {
      await stack.stop();
    }
  },
});
