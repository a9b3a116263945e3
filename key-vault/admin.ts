/**
 * `deno task admin …`: the operator CLI. Talks to the vault through the proxy with its
 * own key (`admin-proxy.key` / `ADMIN_PROXY_KEY`), at `PROXY_URL` (default
 * http://127.0.0.1:8001).
 *
 *   users [--json]                      every account and its state
 *   pending [--json]                    applications waiting for consent
 *   letters [--json]                    consent letters to post (identity, name, address, phrase)
 *   letters sent <identity>             mark a letter posted (the vault forgets the phrase)
 *   consent-reset <identity>            clear wrong-phrase attempts (and renew an expired window)
 *   revoke <identity> --reason <text>   revoke a key (erases the key record)
 *   audit verify [--json]               check the audit chain; exit 1 if broken
 *
 * Exit codes: 0 done, 1 refused or broken, 2 usage.
 *
 * @module
 */
import { createProxyClient } from "../proxy/client.ts";
import { ApiError } from "../proxy/errors.ts";
import { dataDir, readSecret } from "../proxy/secrets.ts";

const USAGE = `usage: deno task admin <command>
  users [--json]
  pending [--json]
  letters [--json]
  letters sent <identity>
  consent-reset <identity>
  revoke <identity> --reason <text>
  audit verify [--json]`;

type Row = Record<string, unknown>;

function _table(rows: Row[], columns: string[]): string {
  if (rows.length === 0) return "(none)";
  const cell = (v: unknown) => (v === null || v === undefined ? "-" : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [
    line(columns),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ]
    .join("\n");
}

/** Runs the CLI with `args`; returns the exit code. Output goes to `out` / `err`. */
export async function runAdmin(
  args: string[],
  out: (s: string) => void = console.log,
  err: (s: string) => void = console.error,
): Promise<number> {
  const json = args.includes("--json");
  let reason: string | undefined;
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--json") continue;
    if (args[i] === "--reason") reason = args[++i];
    else words.push(args[i]);
  }
  const [command, sub, arg] = words;
  if (!command || command === "help" || command === "--help") {
    (command ? out : err)(USAGE);
    return command ? 0 : 2;
  }
  const proxyUrl = Deno.env.get("PROXY_URL") ||
    `http://127.0.0.1:${Deno.env.get("PROXY_PORT") || 8001}`;
  let secret: Uint8Array;
  try {
    secret = await readSecret("admin-proxy.key", dataDir());
  } catch (e) {
    err(`admin: ${(e as Error).message}`);
    return 1;
  }
  const client = createProxyClient({ url: proxyUrl, keyId: "admin", secret });
  secret.fill(0);
  try {
    switch (command) {
      case "users": {
        const { users } = await client.call("admin.users", {}) as { users: Row[] };
        out(
          json ? JSON.stringify(users, null, 2) : _table(users, [
            "identity",
            "status",
            "fullName",
            "createdAt",
            "activatedAt",
            "revokedAt",
          ]),
        );
        return 0;
      }
      case "pending": {
        const { pending } = await client.call("admin.pending", {}) as { pending: Row[] };
        out(
          json ? JSON.stringify(pending, null, 2) : _table(pending, [
            "identity",
            "fullName",
            "appliedAt",
            "consentExpiresAt",
            "attempts",
            "locked",
            "letter",
          ]),
        );
        return 0;
      }
      case "letters": {
        if (sub === "sent") {
          if (!arg) break;
          await client.call("admin.letters.sent", { identity: arg });
          out(`letter for ${arg} marked as sent; the vault no longer keeps its phrase`);
          return 0;
        }
        if (sub) break;
        const { letters } = await client.call("admin.letters", {}) as { letters: Row[] };
        if (json) out(JSON.stringify(letters, null, 2));
        else if (letters.length === 0) out("(no letters waiting)");
        else {
          for (const l of letters) {
            out(
              `To: ${l.fullName}\n    ${l.address}\nIdentity: ${l.identity}\nConsent phrase: ${l.phrase}\n(valid until ${l.consentExpiresAt})\n`,
            );
          }
        }
        return 0;
      }
      case "consent-reset": {
        if (!sub) break;
        const r = await client.call("admin.consent.reset", { identity: sub }) as Row;
        out(`consent attempts for ${sub} reset; phrase valid until ${r.consentExpiresAt}`);
        return 0;
      }
      case "revoke": {
        if (!sub || !reason) break;
        const r = await client.call("admin.revoke", { identity: sub, reason }) as Row;
        out(`${sub} revoked${r.serial ? ` (certificate ${r.serial})` : ""}`);
        return 0;
      }
      case "audit": {
        if (sub !== "verify") break;
        const report = await client.call("admin.audit.verify", {}) as {
          ok: boolean;
          rows: number;
          headSeq: number;
          headHash: string;
          problems: { seq: number; problem: string }[];
        };
        if (json) out(JSON.stringify(report, null, 2));
        else if (report.ok) {
          out(`audit chain intact: ${report.rows} rows, head ${report.headSeq} ${report.headHash}`);
        } else {
          err(`audit chain BROKEN (${report.rows} rows checked):`);
          for (const p of report.problems) err(`  row ${p.seq}: ${p.problem}`);
        }
        return report.ok ? 0 : 1;
      }
    }
  } catch (e) {
    if (e instanceof ApiError) {
      err(`admin: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
  err(USAGE);
  return 2;
}

if (import.meta.main) Deno.exit(await runAdmin(Deno.args));
