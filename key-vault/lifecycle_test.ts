/**
 * Re-registration and revocation in-process on PGlite (docs/lifecycle.md): the CRL is
 * re-signed with a new number in the same transaction as each supersession and
 * revocation, the key and OPAQUE records are really deleted, the audit log names who
 * and why, and a request signed with a key that was just replaced is
 * `key_superseded` while one signed with a stranger's key changes nothing.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import * as opaque from "@serenity-kit/opaque";
import { sql } from "kysely";
import { assertEquals, assertOk, assertRejects, codeOf } from "../tests/fixtures/assert.ts";
import * as u from "../harness/mod.ts";
import { ApiError } from "../platform/mod.ts";
import type { ProxyClient } from "../platform/mod.ts";
import { type OpName, opSpec, parseOpBody } from "../platform/mod.ts";
import type { VaultConfig } from "./config.ts";
import { openDb } from "./db.ts";
import { runOperation } from "./operations/mod.ts";
import { openVaultState, type VaultState } from "./state.ts";

const config: VaultConfig = {
  host: "127.0.0.1",
  port: 0,
  dataDir: "/nonexistent",
  poolSize: 1,
  consentTtlDays: 14,
  ksf: { memory: 1024, iterations: 1, parallelism: 1 }, // LIGHT_KSF, the harness users' setting
  consentMaxAttempts: 5,
  certValidityDays: 365,
  loginTtlMs: 120_000,
};

function clients(vault: VaultState, now: () => Date) {
  const client = (actor: "web" | "admin"): ProxyClient => ({
    call(op: string, body: unknown, opts?: { clientAddress?: string }) {
      const spec = opSpec(op)!;
      assertOk(spec.callers.includes(actor), `${actor} may not call ${op}`);
      return runOperation(
        { vault, actor, clientTag: opts?.clientAddress ?? "", now: now() },
        op as OpName,
        parseOpBody(spec, JSON.parse(JSON.stringify(body))),
      );
    },
  } as ProxyClient);
  return { web: client("web"), admin: client("admin") };
}

async function activeUser(web: ProxyClient, admin: ProxyClient, identity: string) {
  const user = await u.makeUser(identity);
  await u.apply(web, user);
  await u.consent(web, user, await u.letterPhrase(admin, identity));
  return user;
}

/** A re-registration body for `next` (new key, new OPAQUE record) signed by `signer`. */
async function reregisterBody(
  web: ProxyClient,
  next: u.TestUser,
  signer: CryptoKey,
  reauthLoginId?: string,
  /** The re-authentication register.start needs for an existing identity (default: the one above). */
  startProof: string | undefined = reauthLoginId,
) {
  await opaque.ready;
  const identity = next.registration.identity;
  const start = opaque.client.startRegistration({ password: next.password });
  const { registrationResponse } = await web.call("register.start", {
    identity,
    registrationRequest: start.registrationRequest,
    ...(startProof ? { reauthLoginId: startProof } : {}),
  }) as { registrationResponse: string };
  const fin = opaque.client.finishRegistration({
    clientRegistrationState: start.clientRegistrationState,
    registrationResponse,
    password: next.password,
    keyStretching: { "argon2id-custom": { ...u.LIGHT_KSF } },
  });
  const body = {
    identity,
    spki: next.spkiB64u,
    keyRecord: await u.buildKeyRecord(next, fin.exportKey),
    registrationRecord: fin.registrationRecord,
    nonce: u.freshNonce(),
    ...(reauthLoginId ? { reauthLoginId } : {}),
  };
  return {
    ...body,
    signature: await u.signUserRequest(signer, "reregister", identity, body.nonce, body),
  };
}

async function revokeBody(
  user: u.TestUser,
  signer = user.keys.privateKey,
  reauthLoginId?: string,
) {
  const identity = user.registration.identity;
  const body = { identity, nonce: u.freshNonce(), ...(reauthLoginId ? { reauthLoginId } : {}) };
  return {
    ...body,
    signature: await u.signUserRequest(signer, "revoke", identity, body.nonce, body),
  };
}

async function crlOf(web: ProxyClient) {
  const r = await web.call("crl.get", {}) as { crl: string; number: number };
  const der = Uint8Array.from(
    atob(r.crl.replace(/-----[^-]+-----|\s/g, "")),
    (c) => c.charCodeAt(0),
  );
  const crl = new x509.X509Crl(der);
  const reasons = new Map(crl.entries.map((e) => [e.serialNumber, e.reason]));
  return { number: r.number, reasons, crl };
}

Deno.test({
  name: "re-registration and revocation in-process on PGlite",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    let clock = new Date();
    const vault = await openVaultState(
      config,
      crypto.getRandomValues(new Uint8Array(32)),
      await openDb({}),
    );
    const { web, admin } = clients(vault, () => clock);
    const count = async (table: string, identity: string) =>
      Number(
        (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}
          where identity = ${identity}`.execute(vault.db)).rows[0].n,
      );
    try {
      const alice = await activeUser(web, admin, "alice");
      const first = await web.call("directory.get", { identity: "alice" }) as { serial: string };

      await t.step("the first crl.get signs CRL number 1; the next one reads it", async () => {
        const a = await crlOf(web);
        assertEquals(a.number, 1);
        assertEquals(a.reasons.size, 0);
        assertEquals((await crlOf(web)).number, 1);
      });

      await t.step(
        "a re-registration signed by a stranger's key is refused; nothing changes",
        async () => {
          const mallory = await u.makeUser("alice", { password: "mallory's phrase" });
          const before = await web.call("directory.history", { identity: "alice" });
          const code = await codeOf(
            web.call(
              "reregister",
              // register.start is let through with alice's own re-authentication: the
              // point here is the signature check of reregister
              await reregisterBody(
                web,
                mallory,
                mallory.keys.privateKey,
                undefined,
                await u.reauthProof(web, alice),
              ),
            ),
          );
          assertEquals(code, "signature_invalid");
          assertEquals(await web.call("directory.history", { identity: "alice" }), before);
          assertEquals((await crlOf(web)).number, 1);
          assertOk((await u.login(web, alice)).ok, "alice's pass phrase still works");
          assertOk(!(await u.login(web, alice, mallory.password)).ok);
        },
      );

      let next!: u.TestUser;
      await t.step(
        "re-registration supersedes the old certificate and re-signs the CRL",
        async () => {
          next = await u.makeUser("alice", {
            password: "a new pass phrase",
            address: alice.address,
          });
          const r = await web.call(
            "reregister",
            await reregisterBody(
              web,
              next,
              alice.keys.privateKey,
              await u.reauthProof(web, alice),
            ),
          ) as { serial: string; superseded: string };
          assertEquals(r.superseded, first.serial);
          const crl = await crlOf(web);
          assertEquals(crl.number, 2);
          assertEquals(crl.reasons.get(first.serial), x509.X509CrlReason.superseded);
          assertOk(!crl.reasons.has(r.serial));
        },
      );

      await t.step(
        "a second re-registration still signed by the replaced key is key_superseded",
        async () => {
          const late = await u.makeUser("alice", { password: "yet another phrase" });
          const code = await codeOf(
            web.call(
              "reregister",
              await reregisterBody(
                web,
                late,
                alice.keys.privateKey,
                undefined,
                await u.reauthProof(web, next),
              ),
            ),
          );
          assertEquals(code, "key_superseded");
          assertEquals(await codeOf(web.call("revoke", await revokeBody(alice))), "key_superseded");
          const { certificates } = await web.call("directory.history", { identity: "alice" }) as {
            certificates: { status: string }[];
          };
          assertEquals(certificates.map((c) => c.status), ["superseded", "active"]);
          assertOk((await u.login(web, next)).ok);
        },
      );

      await t.step(
        "user revocation erases the rows, revokes, re-signs the CRL, audits who",
        async () => {
          Object.assign(alice, next);
          const current = await web.call("directory.get", { identity: "alice" }) as {
            serial: string;
          };
          assertEquals(await count("key_records", "alice"), 1);
          assertEquals(await count("opaque_records", "alice"), 1);
          const proof = await u.reauthProof(web, alice);
          const r = await web.call(
            "revoke",
            await revokeBody(alice, alice.keys.privateKey, proof),
          ) as { serial: string };
          assertEquals(r.serial, current.serial);
          assertEquals(await count("key_records", "alice"), 0);
          assertEquals(await count("opaque_records", "alice"), 0);
          assertEquals(
            await count("certificates", "alice"),
            2,
            "the archive keeps every certificate",
          );
          const crl = await crlOf(web);
          assertEquals(crl.number, 3);
          assertEquals(crl.reasons.get(current.serial), x509.X509CrlReason.cessationOfOperation);
          assertEquals(crl.reasons.get(first.serial), x509.X509CrlReason.superseded);
          const { entries } = await admin.call("admin.audit", { identity: "alice" }) as {
            entries: { actor: string; op: string; details: Record<string, unknown> }[];
          };
          const row = entries.find((e) => e.op === "revoke")!;
          assertEquals(row.actor, "web");
          assertEquals(row.details.by, "user");
          assertEquals(row.details.reason, "revoked by its user");
          assertEquals(row.details.serial, current.serial);
          assertEquals(await codeOf(u.login(web, alice)), "account_revoked");
        },
      );

      await t.step(
        "operator revocations of two users at once: each CRL lists every revocation before it",
        async () => {
          const bob = await activeUser(web, admin, "bob");
          const carol = await activeUser(web, admin, "carol");
          void bob, carol;
          const serials = await Promise.all(
            ["bob", "carol"].map(async (identity) =>
              (await web.call("directory.get", { identity }) as { serial: string }).serial
            ),
          );
          await Promise.all(
            ["bob", "carol"].map((identity) =>
              admin.call("admin.revoke", { identity, reason: "reported stolen", operator: "ops-1" })
            ),
          );
          const crl = await crlOf(web);
          assertEquals(crl.number, 5);
          for (const s of serials) assertOk(crl.reasons.has(s), `${s} listed`);
          const { entries } = await admin.call("admin.audit", { identity: "bob" }) as {
            entries: { actor: string; op: string; details: Record<string, unknown> }[];
          };
          const row = entries.find((e) => e.op === "admin.revoke")!;
          assertEquals(row.actor, "admin");
          assertEquals(row.details.by, "operator");
          assertEquals(row.details.operator, "ops-1");
          assertEquals(row.details.reason, "reported stolen");
          assertEquals(await count("opaque_records", "bob"), 0);
          await assertRejects(
            () => admin.call("admin.revoke", { identity: "bob", reason: "again" }),
            ApiError,
            "already_revoked",
          );
        },
      );

      await t.step(
        "crl.get re-signs (next number, same list) only past half its validity",
        async () => {
          const before = await crlOf(web);
          clock = new Date(clock.getTime() + 11 * 3_600_000);
          assertEquals((await crlOf(web)).number, before.number);
          clock = new Date(clock.getTime() + 2 * 3_600_000);
          const after = await crlOf(web);
          assertEquals(after.number, before.number + 1);
          assertEquals([...after.reasons.keys()].sort(), [...before.reasons.keys()].sort());
          assertOk(after.crl.nextUpdate!.getTime() > clock.getTime() + 23 * 3_600_000);
        },
      );
    } finally {
      await vault.close();
    }
  },
});
