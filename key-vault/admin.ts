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
 *   revoke <identity> --reason <text> [--by <operator>]
 *                                       revoke a key: erases the key and OPAQUE records,
 *                                       marks the certificate revoked, re-signs the CRL;
 *                                       the audit row names the operator (`--by`, default
 *                                       $USER) and the reason
 *   audit log [<identity>] [--limit <n>] [--json]
 *                                       audit rows, newest first: who (actor, operator),
 *                                       what, outcome and why
 *   audit verify [--json]               check the audit chain; exit 1 if broken
 *   web-certificate                     create the web server's confidentiality key in
 *                                       DATA_DIR/web/ if missing and have the CA certify it
 *                                       (the web server cannot: docs/trust-anchors.md)
 *
 * Exit codes: 0 done, 1 refused or broken, 2 usage.
 *
 * @module
 */
import { createProxyClient } from "../platform/mod.ts";
import { ApiError } from "../platform/mod.ts";
import { dataDir, readSecret } from "../platform/mod.ts";
import { provisionConfidentialityKey } from "../platform/mod.ts";

const USAGE = `usage: deno task admin <command>
  users [--json]
  pending [--json]
  letters [--json]
  letters sent <identity>
  consent-reset <identity>
  revoke <identity> --reason <text> [--by <operator>]
  audit log [<identity>] [--limit <n>] [--json]
  audit verify [--json]
  web-certificate`;

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
  let by: string | undefined = Deno.env.get("USER") || Deno.env.get("LOGNAME") || undefined;
  let limit: number | undefined;
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--json") continue;
    if (args[i] === "--reason") reason = args[++i];
    else if (args[i] === "--by") by = args[++i];
    else if (args[i] === "--limit") limit = Number(args[++i]);
    else words.push(args[i]);
  }
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) {
    err("admin: --limit must be an integer in 1..1000");
    return 2;
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
      case "web-certificate": {
        const pem = await provisionConfidentialityKey(dataDir(), proxyUrl);
        out(json ? JSON.stringify({ certificate: pem }) : pem.trimEnd());
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
        const r = await client.call("admin.revoke", {
          identity: sub,
          reason,
          ...(by ? { operator: by.slice(0, 64) } : {}),
        }) as Row;
        out(`${sub} revoked${r.serial ? ` (certificate ${r.serial})` : ""}`);
        return 0;
      }
      case "audit": {
        if (sub === "log") {
          const { entries } = await client.call("admin.audit", {
            ...(arg ? { identity: arg } : {}),
            ...(limit ? { limit } : {}),
          }) as { entries: Row[] };
          out(
            json ? JSON.stringify(entries, null, 2) : _table(
              entries.map((e) => ({ ...e, details: JSON.stringify(e.details) })),
              ["seq", "at", "actor", "op", "identity", "outcome", "details"],
            ),
          );
          return 0;
        }
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
