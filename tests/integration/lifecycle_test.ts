/**
 * Certificates, directory, re-registration, revocation and the bank through real
 * processes on PostgreSQL (vault, proxy, web server, demo bank), with Deno clients
 * that run the applet's own protocol code (wasm-crypto, OPAQUE): the `openssl` CLI
 * as the oracle for certificates, CRL and signatures; `deno task verify`; eight
 * re-registrations racing; an operator revocation with `deno task admin`, checked
 * in the database, the CRL, the audit log and at the bank.
 *
 * Users here stretch their pass phrases with the tests' light setting
 * (harness/user.ts LIGHT_KSF); the applet refuses it.
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { postgresAvailable, sqlAsAdmin, startStack } from "../../harness/mod.ts";
import { LIGHT_KSF } from "../../harness/mod.ts";
import { admin } from "../e2e/_applet.ts";
import { activeUserFromDeno, anchorsOf, ready, signedIn } from "../e2e/_deno_client.ts";
import {
  checkHostKeys,
  fetchHostKeys,
  forget,
  newIdempotencyKey,
  reauthenticate,
  reregister,
  sendToHost,
  signAndSubmit,
} from "../../applet/mod.ts";
import { RpcError } from "../../applet/mod.ts";
import { utf8 } from "../../protocol/mod.ts";
import { createCa } from "../../key-vault/mod.ts";

const _ROOT = new URL("../../", import.meta.url).pathname;
const VALIDITY_DAYS = 30;

async function run(cmd: string, args: string[], cwd: string, env?: Record<string, string>) {
  const r = await new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: r.code, ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test({
  name: "[slow] lifecycle through the web server on PostgreSQL: openssl, verify, races, revocation",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    if (!(await postgresAvailable())) return;
    await ready();
    const stack = await startStack({
      db: "postgres",
      host: true,
      env: { CERT_VALIDITY_DAYS: String(VALIDITY_DAYS) },
    });
    const web = stack.webUrl!;
    const work = await Deno.makeTempDir({ prefix: "roamsign-lifecycle-" });
    const openssl = (...args: string[]) => run("openssl", args, work);
    const verify = async (...args: string[]) => {
      const r = await run(
        Deno.execPath(),
        ["task", "--quiet", "verify", "--", "--server", web, "--json", ...args],
        _ROOT,
        // as its operator would: the stack's data directory holds the vault's CA (ca.pem)
        { DATA_DIR: stack.dataDir },
      );
      let verdict = r.out;
      try {
        verdict = JSON.parse(r.out).verdict;
      } catch {
        // not JSON: keep the text for the message
      }
      return { code: r.code, verdict };
    };
    const fetchTo = async (path: string, file: string) => {
      const res = await fetch(`${web}${path}`);
      assertEquals(res.status, 200, path);
      await Deno.writeTextFile(`${work}/${file}`, await res.text());
    };
    const count = async (q: string, id: string) =>
      (await sqlAsAdmin(stack.databaseUrl!, q, [id])).rows[0].n as number;
    const register = (prefix: string) => activeUserFromDeno(stack, prefix);
    try {
      const alice = await register("a");
      const bob = await register("b");

      await t.step("openssl x509 -text shows the certificate's fields", async () => {
        await fetchTo(`/directory/${alice.id}?format=pem`, "alice.pem");
        const text = await openssl("x509", "-in", "alice.pem", "-noout", "-text");
        assertOk(text.ok, text.out);
        for (
          const re of [
            /Version: 3 \(0x2\)/,
            new RegExp(`Subject: CN\\s?=\\s?${alice.id}\\n`),
            /Issuer: CN\s?=\s?roamsign CA, O\s?=\s?roamsign/,
            /X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation/,
            /CA:FALSE/,
            /Public-Key: \(2048 bit\)/,
            /Signature Algorithm: sha256WithRSAEncryption/,
          ]
        ) assertOk(re.test(text.out), `${re} in\n${text.out}`);
        const dates = await openssl("x509", "-in", "alice.pem", "-noout", "-dates");
        const [nb, na] = [/notBefore=(.*)/, /notAfter=(.*)/].map((re) =>
          Date.parse(re.exec(dates.out)![1])
        );
        assertEquals(na - nb, VALIDITY_DAYS * 86_400_000, "validity is CERT_VALIDITY_DAYS");
        const entry = await (await fetch(`${web}/directory/${alice.id}`)).json();
        assertEquals(entry.status, "active");
        const serial = await openssl("x509", "-in", "alice.pem", "-noout", "-serial");
        assertEquals(serial.out.trim().toLowerCase(), `serial=${entry.serial}`);
      });

      await t.step(
        "openssl verify passes for an active certificate, with and without the CRL",
        async () => {
          await fetchTo("/ca.pem", "ca.pem");
          await fetchTo("/crl.pem", "crl.pem");
          const plain = await openssl("verify", "-CAfile", "ca.pem", "alice.pem");
          assertOk(plain.ok && plain.out.includes("alice.pem: OK"), plain.out);
          const crl = await openssl(
            "verify",
            "-crl_check",
            "-CAfile",
            "ca.pem",
            "-CRLfile",
            "crl.pem",
            "alice.pem",
          );
          assertOk(crl.ok, crl.out);
          const crlText = await openssl("crl", "-in", "crl.pem", "-noout", "-CAfile", "ca.pem");
          assertOk(/verify OK/i.test(crlText.out), crlText.out);
        },
      );

      await t.step(
        "openssl dgst accepts a wasm-crypto signature; deno task verify says valid / invalid",
        async () => {
          const { session, user } = await signedIn(web, alice.id, alice.pass, LIGHT_KSF);
          try {
            const message = utf8(`Pay 10.00 GBP to 20-00-00 1, ${crypto.randomUUID()}\n`);
            const r = await signAndSubmit(session, user, message);
            assertOk(r.verified);
            await Deno.writeFile(`${work}/m.txt`, message);
            await Deno.writeFile(`${work}/m.sig`, r.signature);
            await Deno.writeFile(`${work}/other.txt`, utf8("something else"));
          } finally {
            forget(user);
            await session.close();
          }
          await openssl("x509", "-in", "alice.pem", "-pubkey", "-noout", "-out", "alice.pub");
          const ok = await openssl(
            "dgst",
            "-sha256",
            "-verify",
            "alice.pub",
            "-signature",
            "m.sig",
            "m.txt",
          );
          assertOk(ok.ok && ok.out.includes("Verified OK"), ok.out);
          const sig = ["--message", `${work}/m.txt`, "--signature", `${work}/m.sig`];
          assertEquals(await verify("--identity", alice.id, ...sig), { code: 0, verdict: "valid" });
          assertEquals(
            await verify("--identity", alice.id, "--ca", `${work}/ca.pem`, ...sig),
            { code: 0, verdict: "valid" },
          );
          assertEquals(
            await verify(
              "--identity",
              alice.id,
              "--message",
              `${work}/other.txt`,
              "--signature",
              `${work}/m.sig`,
            ),
            { code: 1, verdict: "invalid" },
          );
          assertEquals(await verify("--identity", bob.id, ...sig), { code: 1, verdict: "invalid" });
          assertEquals(
            await verify("--identity", "nobody-here", ...sig),
            { code: 5, verdict: "unknown-identity" },
          );
          const stranger = await createCa(1);
          await Deno.writeTextFile(`${work}/other-ca.pem`, stranger.pem);
          stranger.pkcs8.fill(0);
          const pinned = await verify(
            "--identity",
            alice.id,
            "--ca",
            `${work}/other-ca.pem`,
            ...sig,
          );
          assertEquals(pinned.code, 69, "a directory not signed by the pinned CA is unusable");
        },
      );

      await t.step("eight re-registrations racing on PostgreSQL: exactly one wins", async () => {
        // Signed in one after the other: eight concurrent sign-ins from one address would
        // meet the login backoff (5 unanswered starts); the race under test is below.
        const sessions = [];
        for (let i = 0; i < 8; i++) {
          sessions.push(await signedIn(web, alice.id, alice.pass, LIGHT_KSF));
        }
        // Each re-authenticates first (docs/lifecycle.md), also one after the other.
        const proofs: string[] = [];
        for (const { session, user } of sessions) {
          proofs.push(await reauthenticate(session, user, utf8(alice.pass), LIGHT_KSF));
        }
        const passes = sessions.map((_, i) => `new pass phrase ${i} of ${alice.id}`);
        const results = await Promise.allSettled(
          sessions.map(({ session, user }, i) =>
            reregister(session, user, {
              passphrase: utf8(passes[i]),
              reauthLoginId: proofs[i],
              bits: 2048,
              ksfFloor: LIGHT_KSF,
            })
          ),
        );
        for (const { session, user } of sessions) {
          forget(user);
          await session.close();
        }
        const codes = results.map((r) =>
          r.status === "fulfilled" ? "ok" : (r.reason as RpcError).code
        );
        assertEquals(codes.filter((c) => c === "ok").length, 1, codes.join());
        assertEquals(codes.filter((c) => c === "key_superseded").length, 7, codes.join());
        const history = await (await fetch(`${web}/directory/${alice.id}/history`)).json();
        assertEquals(
          history.certificates.map((c: { status: string }) => c.status),
          ["superseded", "active"],
        );
        assertEquals(
          await count(
            "select count(*)::int as n from audit_log where op = 'reregister' and identity = $1 and outcome = 'reregistered'",
            alice.id,
          ),
          1,
        );
        // The seven losers are refusals, each audited apart (docs/hostile-input.md).
        assertEquals(
          await count(
            `select count(*)::int as n from audit_log where op = 'reregister' and identity = $1
             and outcome = 'refused' and details like '%"code":"key_superseded"%'`,
            alice.id,
          ),
          7,
        );
        const winner = passes[codes.indexOf("ok")];
        const again = await signedIn(web, alice.id, winner, LIGHT_KSF);
        forget(again.user);
        await again.session.close();
        const loser = passes[codes.indexOf("key_superseded")];
        const refused = await signedIn(web, alice.id, loser, LIGHT_KSF).then(
          () => "ok",
          (e) => e.code,
        );
        assertEquals(refused, "wrong_passphrase");
        const old = await verify(
          "--identity",
          alice.id,
          "--message",
          `${work}/m.txt`,
          "--signature",
          `${work}/m.sig`,
        );
        assertEquals(old, { code: 3, verdict: "signed-by-superseded-key" });
      });

      await t.step(
        "operator revocation: rows erased, CRL re-signed, audited with who and why, the bank refuses",
        async () => {
          const { session, user } = await signedIn(web, bob.id, bob.pass, LIGHT_KSF);
          const host = await checkHostKeys(await fetchHostKeys(web), await anchorsOf(web));
          const debit = {
            to: "20-00-00 7",
            amount: "20.00",
            reference: "ok",
            idempotencyKey: newIdempotencyKey(),
          };
          const paid = await sendToHost(session, user, host, debit);
          assertEquals(paid.receipt.balance, "980.00");
          assertEquals(paid.receipt.debit.currency, "GBP"); // the bank's, not the caller's
          // The same payment again (signed anew, the same form's key): not paid twice.
          const ledger = `${stack.dataDir}/host-bank/ledger.json`;
          const paidOnce = await Deno.readFile(ledger);
          const again = await sendToHost(session, user, host, debit);
          assertEquals(again.code, "duplicate_payment");
          assertEquals(again.receiptText, paid.receiptText);
          assertEquals(await Deno.readFile(ledger), paidOnce);
          // The receipt file a user keeps checks out later, against the bank's published key.
          await Deno.writeTextFile(`${work}/receipt.json`, paid.signedReceipt);
          assertEquals(await verify("--receipt", `${work}/receipt.json`), {
            code: 0,
            verdict: "valid",
          });
          const message = paid.message;
          await Deno.writeFile(`${work}/b.txt`, message);
          await Deno.writeFile(`${work}/b.sig`, paid.signature);
          await fetchTo(`/directory/${bob.id}?format=pem`, "bob.pem");
          const serial = (await (await fetch(`${web}/directory/${bob.id}`)).json()).serial;
          const crlBefore = await (await fetch(`${web}/crl.pem`)).text();

          const r = await admin(stack, "revoke", bob.id, "--reason", "lost phone", "--by", "ops-1");
          assertOk(r.includes(`${bob.id} revoked`), r);

          for (const table of ["key_records", "opaque_records"]) {
            assertEquals(
              await count(`select count(*)::int as n from ${table} where identity = $1`, bob.id),
              0,
              `${table} row erased`,
            );
          }
          const cert = await sqlAsAdmin(
            stack.databaseUrl!,
            "select status, revocation_reason from certificates where serial = $1",
            [serial],
          );
          assertEquals(cert.rows[0], { status: "revoked", revocation_reason: "lost phone" });

          await fetchTo("/crl.pem", "crl.pem");
          assertOk((await Deno.readTextFile(`${work}/crl.pem`)) !== crlBefore, "CRL re-signed");
          const listed = await openssl("crl", "-in", "crl.pem", "-noout", "-text");
          assertOk(listed.out.toUpperCase().includes(serial.toUpperCase()), listed.out);
          const refused = await openssl(
            "verify",
            "-crl_check",
            "-CAfile",
            "ca.pem",
            "-CRLfile",
            "crl.pem",
            "bob.pem",
          );
          assertOk(!refused.ok && /certificate revoked/.test(refused.out), refused.out);

          const audit = JSON.parse(await admin(stack, "audit", "log", bob.id, "--json"));
          const row = audit.find((e: { op: string }) => e.op === "admin.revoke");
          assertEquals(
            [row.actor, row.details.by, row.details.operator, row.details.reason],
            ["admin", "operator", "ops-1", "lost phone"],
          );

          const before = await Deno.readFile(`${stack.dataDir}/host-bank/ledger.json`);
          const err = await sendToHost(session, user, host, debit).then(() => null, (e) => e);
          assertOk(err instanceof RpcError && err.code === "key_revoked", String(err));
          assertEquals(await Deno.readFile(`${stack.dataDir}/host-bank/ledger.json`), before);
          forget(user);
          await session.close();

          assertEquals(
            await verify(
              "--identity",
              bob.id,
              "--message",
              `${work}/b.txt`,
              "--signature",
              `${work}/b.sig`,
            ),
            { code: 2, verdict: "revoked" },
          );
          const login = await signedIn(web, bob.id, bob.pass, LIGHT_KSF).then(
            () => "ok",
            (e) => e.code,
          );
          assertEquals(login, "account_revoked");
        },
      );

      await t.step("the audit chain verifies", async () => {
        const r = await admin(stack, "audit", "verify");
        assertOk(r.includes("audit chain intact"), r);
      });
    } finally {
      await stack.stop();
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
