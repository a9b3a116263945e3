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
 * Exit codes: 0 done, 1 refused or broken, 2 usage. A usage error names what is missing
 * or wrong and prints that command's usage line, not the whole list (which `help` and a
 * bare `deno task admin` print); it is found before any secret is read or the proxy asked.
 *
 * @module
 */
import { createProxyClient } from "../platform/mod.ts";
import { ApiError } from "../platform/mod.ts";
import { readSecret } from "../platform/mod.ts";
import { provisionConfidentialityKey } from "../platform/mod.ts";
import { type AdminConfig, adminConfigFromEnv } from "./config.ts";

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

/** The parsed command line. */
interface _Args {
  json: boolean;
  reason?: string;
  by?: string;
  limit?: number;
  command?: string;
  sub?: string;
  arg?: string;
  /** An option given without its value (`--reason` last, or before another option). */
  valueless?: string;
}

/** The options that take a value, with what the value is. */
const _VALUE_OPTIONS: Record<string, string> = {
  "--reason": "<text>",
  "--by": "<operator>",
  "--limit": "<n>",
};

function _parseArgs(args: string[], operator: string | undefined): _Args {
  const a: _Args = { json: args.includes("--json"), by: operator };
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--json") continue;
    if (Object.hasOwn(_VALUE_OPTIONS, args[i])) {
      const v = args[i + 1];
      if (v === undefined || v.startsWith("--")) {
        a.valueless ??= args[i];
        continue;
      }
      i++;
      if (args[i - 1] === "--reason") a.reason = v;
      else if (args[i - 1] === "--by") a.by = v;
      else a.limit = Number(v);
    } else words.push(args[i]);
  }
  [a.command, a.sub, a.arg] = words;
  return a;
}

/** Each command's usage line, by its first word. */
const _USAGE_LINES: Record<string, string> = {
  users: "users [--json]",
  pending: "pending [--json]",
  letters: "letters [--json] | letters sent <identity>",
  "consent-reset": "consent-reset <identity>",
  revoke: "revoke <identity> --reason <text> [--by <operator>]",
  audit: "audit log [<identity>] [--limit <n>] [--json] | audit verify [--json]",
  "web-certificate": "web-certificate",
};

/**
 * What is wrong with the command line, naming the missing or unknown argument; null when
 * it can run. Checked before any secret is read.
 */
function _usageError(a: _Args): string | null {
  const commands = Object.keys(_USAGE_LINES);
  if (!a.command || !Object.hasOwn(_USAGE_LINES, a.command)) {
    return `admin: unknown command "${a.command}" (one of: ${commands.join(", ")})`;
  }
  const at = `admin ${a.command}`;
  if (a.valueless) return `${at}: ${a.valueless} needs a value ${_VALUE_OPTIONS[a.valueless]}`;
  if (a.limit !== undefined && !(Number.isInteger(a.limit) && a.limit >= 1 && a.limit <= 1000)) {
    return `${at}: --limit must be an integer in 1..1000`;
  }
  switch (a.command) {
    case "letters":
      if (a.sub !== undefined && a.sub !== "sent") {
        return `${at}: unknown subcommand "${a.sub}" (one of: sent)`;
      }
      return a.sub === "sent" && !a.arg ? `${at} sent: missing <identity>` : null;
    case "consent-reset":
      return a.sub ? null : `${at}: missing <identity> (whose consent attempts to reset)`;
    case "revoke":
      if (!a.sub) return `${at}: missing <identity> (whose key to revoke)`;
      return a.reason ? null : `${at}: missing --reason <text> (why; it goes into the audit log)`;
    case "audit":
      if (a.sub === undefined) return `${at}: missing subcommand (one of: log, verify)`;
      return a.sub === "log" || a.sub === "verify"
        ? null
        : `${at}: unknown subcommand "${a.sub}" (one of: log, verify)`;
  }
  return null;
}

/** What a command gets; it returns an exit code, or undefined for a usage error. */
interface _Run {
  a: _Args;
  client: ReturnType<typeof createProxyClient>;
  config: AdminConfig;
  out: (s: string) => void;
  err: (s: string) => void;
}

type _Command = (r: _Run) => Promise<number | undefined>;

const _users: _Command = async ({ a, client, out }) => {
  const { users } = await client.call("admin.users", {}) as { users: Row[] };
  out(
    a.json ? JSON.stringify(users, null, 2) : _table(users, [
      "identity",
      "status",
      "fullName",
      "createdAt",
      "activatedAt",
      "revokedAt",
    ]),
  );
  return 0;
};

const _pending: _Command = async ({ a, client, out }) => {
  const { pending } = await client.call("admin.pending", {}) as { pending: Row[] };
  out(
    a.json ? JSON.stringify(pending, null, 2) : _table(pending, [
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
};

const _letters: _Command = async ({ a, client, out }) => {
  if (a.sub === "sent") {
    if (!a.arg) return undefined;
    await client.call("admin.letters.sent", { identity: a.arg });
    out(`letter for ${a.arg} marked as sent; the vault no longer keeps its phrase`);
    return 0;
  }
  if (a.sub) return undefined;
  const { letters } = await client.call("admin.letters", {}) as { letters: Row[] };
  if (a.json) out(JSON.stringify(letters, null, 2));
  else if (letters.length === 0) out("(no letters waiting)");
  else {
    for (const l of letters) {
      out(
        `To: ${l.fullName}\n    ${l.address}\nIdentity: ${l.identity}\nConsent phrase: ${l.phrase}\n(valid until ${l.consentExpiresAt})\n`,
      );
    }
  }
  return 0;
};

const _webCertificate: _Command = async ({ a, config, out }) => {
  const pem = await provisionConfidentialityKey(config.dataDir, config.proxyUrl);
  out(a.json ? JSON.stringify({ certificate: pem }) : pem.trimEnd());
  return 0;
};

const _consentReset: _Command = async ({ a, client, out }) => {
  if (!a.sub) return undefined;
  const r = await client.call("admin.consent.reset", { identity: a.sub }) as Row;
  out(`consent attempts for ${a.sub} reset; phrase valid until ${r.consentExpiresAt}`);
  return 0;
};

const _revoke: _Command = async ({ a, client, out }) => {
  if (!a.sub || !a.reason) return undefined;
  const r = await client.call("admin.revoke", {
    identity: a.sub,
    reason: a.reason,
    ...(a.by ? { operator: a.by.slice(0, 64) } : {}),
  }) as Row;
  out(`${a.sub} revoked${r.serial ? ` (certificate ${r.serial})` : ""}`);
  return 0;
};

const _auditLog: _Command = async ({ a, client, out }) => {
  const { entries } = await client.call("admin.audit", {
    ...(a.arg ? { identity: a.arg } : {}),
    ...(a.limit ? { limit: a.limit } : {}),
  }) as { entries: Row[] };
  out(
    a.json ? JSON.stringify(entries, null, 2) : _table(
      entries.map((e) => ({ ...e, details: JSON.stringify(e.details) })),
      ["seq", "at", "actor", "op", "identity", "outcome", "details"],
    ),
  );
  return 0;
};

const _auditVerify: _Command = async ({ a, client, out, err }) => {
  const report = await client.call("admin.audit.verify", {}) as {
    ok: boolean;
    rows: number;
    headSeq: number;
    headHash: string;
    problems: { seq: number; problem: string }[];
  };
  if (a.json) out(JSON.stringify(report, null, 2));
  else if (report.ok) {
    out(`audit chain intact: ${report.rows} rows, head ${report.headSeq} ${report.headHash}`);
  } else {
    err(`audit chain BROKEN (${report.rows} rows checked):`);
    for (const p of report.problems) err(`  row ${p.seq}: ${p.problem}`);
  }
  return report.ok ? 0 : 1;
};

const _audit: _Command = (r) =>
  r.a.sub === "log"
    ? _auditLog(r)
    : r.a.sub === "verify"
    ? _auditVerify(r)
    : Promise.resolve(undefined);

/** The commands by their first word. */
const _COMMANDS: Record<string, _Command> = {
  users: _users,
  pending: _pending,
  letters: _letters,
  "web-certificate": _webCertificate,
  "consent-reset": _consentReset,
  revoke: _revoke,
  audit: _audit,
};

/** Runs the CLI with `args`; returns the exit code. Output goes to `out` / `err`. */
export async function runAdmin(
  args: string[],
  out: (s: string) => void = console.log,
  err: (s: string) => void = console.error,
  config: AdminConfig = adminConfigFromEnv(),
): Promise<number> {
  const a = _parseArgs(args, config.operator);
  if (!a.command || a.command === "help" || a.command === "--help") {
    (a.command ? out : err)(USAGE);
    return a.command ? 0 : 2;
  }
  const usage = _usageError(a);
  if (usage) {
    err(
      Object.hasOwn(_USAGE_LINES, a.command)
        ? `${usage}\nusage: deno task admin ${_USAGE_LINES[a.command]}`
        : usage,
    );
    return 2;
  }
  let secret: Uint8Array;
  try {
    secret = await readSecret("admin-proxy.key", config.dataDir);
  } catch (e) {
    err(`admin: ${(e as Error).message}`);
    return 1;
  }
  const client = createProxyClient({ url: config.proxyUrl, keyId: "admin", secret });
  secret.fill(0);
  const command = Object.hasOwn(_COMMANDS, a.command) ? _COMMANDS[a.command] : undefined;
  try {
    const code = await command?.({ a, client, config, out, err });
    if (code !== undefined) return code;
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
