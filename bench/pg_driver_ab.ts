/**
 * Same-process A/B of two PostgreSQL clients on the vault's hot path (issue 21, the
 * design card's `postgres`): `pg` with kysely's PostgresDialect (what the vault uses)
 * against postgres.js (`postgres`) with `kysely-postgres-js`. Not a test; needs the local
 * PostgreSQL server, on which it creates and drops its own database.
 *
 *   deno run -A bench/pg_driver_ab.ts [--users 20] [--logins 300] [--rounds 8] [--concurrency 16] [--pool 10]
 *
 * Method. Two vault states in this process over one fresh database, each on its own
 * `Db` (key-vault/db.ts): one from `openDb()` (pg, named prepared statements), one whose
 * `query()` is postgres.js's `unsafe(text, values, { prepare: true })` (prepared per
 * connection, as pg's named statements are) and whose kysely dialect is
 * `kysely-postgres-js`. Setup (not timed): `users` users register (apply, consent); then
 * per round and per driver (their order alternating) `logins` OPAQUE `login.start` calls
 * on that driver's vault and the client's finish. Timed: those `login.finish` calls,
 * `concurrency` in flight, through `runOperation` — the vault's real operation: the OPAQUE
 * server finish in memory and the one prepared statement of the held path (nonce, take
 * the attempt, release the record, backoff, known address, audit row). Figures per
 * round: wall ms per login.finish (the inverse of the rate), this process's CPU ms per
 * login.finish (OPAQUE + the driver's client side), the database backends' CPU ms per
 * login.finish (/proc of the server processes, found by application_name), and p50 / p99
 * latency; printed as min / q1 / median / q3 over the rounds, and the per-round ratios
 * postgres.js / pg (the two drivers of a round run back to back).
 *
 * @module
 */
import process from "node:process";
import postgres from "postgres";
import { Kysely } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import * as opaque from "@serenity-kit/opaque";
import {
  type Database,
  type Db,
  openDb,
  openVaultState,
  runOperation,
  type VaultConfig,
  type VaultState,
} from "../key-vault/mod.ts";
import {
  type KeyRecordV1,
  type OpName,
  opSpec,
  parseOpBody,
  type ProxyClient,
} from "../platform/mod.ts";
import { createTestDatabase, postgresAvailable, sqlAsAdmin } from "../harness/mod.ts";
import * as u from "../harness/mod.ts";
import { cpuMs } from "./proc.ts";

const _CONFIG: VaultConfig = {
  host: "127.0.0.1",
  port: 0,
  dataDir: "/nonexistent",
  poolSize: 10,
  consentTtlDays: 14,
  ksf: { memory: 1024, iterations: 1, parallelism: 1 }, // LIGHT_KSF, the harness users' setting
  consentMaxAttempts: 5,
  certValidityDays: 365,
  loginTtlMs: 600_000,
};

/** A `Db` on postgres.js: kysely through kysely-postgres-js, hot statements prepared. */
function _postgresJsDb(url: string, poolSize: number, appName: string): Db {
  const sql = postgres(url, {
    max: poolSize,
    prepare: true,
    onnotice: () => {},
    connection: { application_name: appName },
  });
  const db = new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: sql }) });
  return {
    db,
    kind: "postgres",
    query: async <T>(_name: string, text: string, values: unknown[]) =>
      [
        ...await sql.unsafe(text, values as postgres.ParameterOrJSON<never>[], { prepare: true }),
      ] as T[],
    close: () => db.destroy(),
  };
}

function _client(vault: VaultState, actor: "web" | "admin"): ProxyClient {
  return {
    call(op: string, body: unknown, opts?: { clientAddress?: string }) {
      const spec = opSpec(op)!;
      return runOperation(
        { vault, actor, clientTag: opts?.clientAddress ?? "", now: new Date() },
        op as OpName,
        parseOpBody(spec, JSON.parse(JSON.stringify(body))),
      );
    },
  } as ProxyClient;
}

function _address(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function _arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

/** Summed CPU ms of the server backends whose application_name is `app`. */
async function _backendCpu(url: string, app: string): Promise<number> {
  const r = await sqlAsAdmin(url, "select pid from pg_stat_activity where application_name = $1", [
    app,
  ]);
  return r.rows.reduce((n: number, row: { pid: number }) => n + cpuMs(row.pid), 0);
}

interface Round {
  wallMs: number;
  cpuMs: number;
  serverCpuMs: number;
  p50: number;
  p99: number;
}

if (import.meta.main) {
  const users = _arg("users", 20), logins = _arg("logins", 300), rounds = _arg("rounds", 8);
  const concurrency = _arg("concurrency", 16), pool = _arg("pool", 10);
  if (!(await postgresAvailable())) throw new Error("pg_driver_ab needs the local PostgreSQL");
  const tdb = await createTestDatabase();
  const url = (app: string) => {
    const x = new URL(tdb.url);
    x.searchParams.set("application_name", app);
    return x.toString();
  };
  const master = crypto.getRandomValues(new Uint8Array(32));
  const handles: Record<string, Db> = {
    pg: await openDb({ url: url("ab_pg"), poolSize: pool }),
    "postgres.js": _postgresJsDb(tdb.url, pool, "ab_postgresjs"),
  };
  const apps: Record<string, string> = { pg: "ab_pg", "postgres.js": "ab_postgresjs" };
  try {
    const vaults: Record<string, VaultState> = {};
    for (const [name, h] of Object.entries(handles)) {
      vaults[name] = await openVaultState({ ..._CONFIG, poolSize: pool }, master.slice(), h);
    }
    const web = _client(vaults.pg, "web"), admin = _client(vaults.pg, "admin");
    const people: u.TestUser[] = [];
    for (let i = 0; i < users; i++) {
      const user = await u.makeUser(`ab-user-${i}`, { ksf: u.LIGHT_KSF, address: _address(i) });
      await u.apply(web, user);
      await u.consent(web, user, await u.letterPhrase(admin, user.registration.identity));
      people.push(user);
    }
    await opaque.ready;
    const results: Record<string, Round[]> = { pg: [], "postgres.js": [] };
    let seq = 0;
    const names = Object.keys(handles);
    for (let round = -1; round < rounds; round++) { // round -1: warm-up, not reported
      for (const name of round % 2 === 0 ? names : [...names].reverse()) {
        const c = _client(vaults[name], "web");
        const finishes: { body: unknown; address: string }[] = [];
        for (let i = 0; i < logins; i++) {
          const user = people[i % people.length];
          const address = _address(1000 + seq++);
          const s = opaque.client.startLogin({ password: user.password });
          const r = await c.call("login.start", {
            identity: user.registration.identity,
            startLoginRequest: s.startLoginRequest,
          }, { clientAddress: address }) as {
            loginId: string;
            loginResponse: string;
            ksf: KeyRecordV1["kdf"];
          };
          const f = opaque.client.finishLogin({
            clientLoginState: s.clientLoginState,
            loginResponse: r.loginResponse,
            password: user.password,
            keyStretching: { "argon2id-custom": { ...u.LIGHT_KSF } },
          })!;
          finishes.push({
            body: { loginId: r.loginId, finishLoginRequest: f.finishLoginRequest },
            address,
          });
        }
        const lat: number[] = [];
        const server0 = await _backendCpu(tdb.url, apps[name]);
        const cpu0 = process.cpuUsage(), t0 = performance.now();
        let next = 0;
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (next < finishes.length) {
            const { body, address } = finishes[next++];
            const s = performance.now();
            const out = await c.call("login.finish", body, { clientAddress: address }) as {
              keyRecord?: unknown;
            };
            if (!out.keyRecord) throw new Error("login.finish released no record");
            lat.push(performance.now() - s);
          }
        }));
        const wall = performance.now() - t0;
        const used = process.cpuUsage(cpu0), cpu = (used.user + used.system) / 1000;
        const server = await _backendCpu(tdb.url, apps[name]) - server0;
        lat.sort((a, b) => a - b);
        if (round >= 0) {
          results[name].push({
            wallMs: wall / logins,
            cpuMs: cpu / logins,
            serverCpuMs: server / logins,
            p50: lat[Math.floor(lat.length * 0.5)],
            p99: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))],
          });
        }
      }
    }
    const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
    console.log(
      `login.finish, ${logins} per round and driver, ${concurrency} in flight, pool ${pool}, ` +
        `${rounds} rounds; load average ${load}; min / q1 / median / q3:`,
    );
    // the same round of both drivers ran back to back: their ratio cancels slow drifts of load
    const ratios = (k: keyof Round) =>
      results.pg.map((r, i) => results["postgres.js"][i][k] / r[k]).sort((a, b) => a - b)
        .map((x) => x.toFixed(2)).join(" ");
    console.log(
      `postgres.js / pg per round, sorted: wall ${ratios("wallMs")}; server CPU ${
        ratios("serverCpuMs")
      }; process CPU ${ratios("cpuMs")}`,
    );
    for (const [name, rs] of Object.entries(results)) {
      const q = (k: keyof Round) => {
        const s = rs.map((r) => r[k]).sort((a, b) => a - b);
        const at = (f: number) => s[Math.floor(f * (s.length - 1))].toFixed(3);
        return `${at(0)} / ${at(0.25)} / ${at(0.5)} / ${at(0.75)}`;
      };
      console.log(
        `${name.padEnd(12)} wall ms/op ${q("wallMs")} | process CPU ms/op ${q("cpuMs")} | ` +
          `server CPU ms/op ${q("serverCpuMs")} | p50 ms ${q("p50")} | p99 ms ${q("p99")}`,
      );
    }
  } finally {
    for (const h of Object.values(handles)) await h.close().catch(() => {});
    await tdb.drop();
  }
}
