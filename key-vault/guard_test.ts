import { openTestDb } from "../tests/fixtures/db.ts";
import { ApiError } from "../platform/mod.ts";
import { RATE_CLASSES } from "../platform/mod.ts";
import { createTagger, creditSuccess, guardRequest, pruneGuardState } from "./guard.ts";
import { assert, codeOf as code } from "../tests/fixtures/assert.ts";

const nonce = () => crypto.randomUUID();

const tdb = (await openTestDb("pglite"))!;
const db = tdb.db;
const t0 = new Date("2026-01-01T00:00:00Z").getTime();
const at = (ms: number) => new Date(t0 + ms);
const tags = createTagger(crypto.getRandomValues(new Uint8Array(32)));
const addressTag = tags.address;

Deno.test({
  name: "guard state (PGlite)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const attacker = addressTag("203.0.113.66");
    const alice = addressTag("198.51.100.10");
    try {
      await t.step("a nonce is accepted once", async () => {
        const n = nonce();
        const input = {
          nonce: n,
          ts: t0,
          rateClass: "none" as const,
          addressTag: "",
          tags,
          now: at(0),
        };
        assert((await code(guardRequest(db, input))) === "ok");
        assert((await code(guardRequest(db, input))) === "replayed_nonce");
      });

      await t.step(
        "per-address window: the limit+1-th request is refused until the window ends",
        async () => {
          const { limit, windowMs } = RATE_CLASSES.read.perAddress;
          const tag = addressTag("192.0.2.1");
          for (let i = 0; i < limit; i++) {
            assert(
              (await code(
                guardRequest(db, {
                  nonce: nonce(),
                  ts: t0,
                  rateClass: "read",
                  addressTag: tag,
                  tags,
                  now: at(i),
                }),
              )) === "ok",
            );
          }
          assert(
            (await code(
              guardRequest(db, {
                nonce: nonce(),
                ts: t0,
                rateClass: "read",
                addressTag: tag,
                tags,
                now: at(limit),
              }),
            )) === "rate_limited",
          );
          assert(
            (await code(
              guardRequest(db, {
                nonce: nonce(),
                ts: t0,
                rateClass: "read",
                addressTag: tag,
                tags,
                now: at(windowMs + 1),
              }),
            )) === "ok",
          );
        },
      );

      await t.step(
        "backoff grows per (identity, address), is capped, and never touches another address",
        async () => {
          const { free, capMs } = RATE_CLASSES.login.backoff;
          let now = 0;
          const attempt = (tag: string, ms: number) =>
            code(
              guardRequest(db, {
                nonce: nonce(),
                ts: t0,
                rateClass: "login",
                identity: "alice",
                addressTag: tag,
                tags,
                now: at(ms),
              }),
            );
          // Alice signs in once from her address, so it is known.
          assert((await attempt(alice, now)) === "ok");
          await creditSuccess(db, tags, "login", "alice", alice, at(now));
          for (let i = 0; i < free; i++) assert((await attempt(attacker, ++now)) === "ok");
          assert((await attempt(attacker, ++now)) === "backoff", "blocked after free attempts");
          // Hammering while blocked does not extend the block ...
          for (let i = 0; i < 50; i++) assert((await attempt(attacker, now + i)) === "backoff");
          // ... and Alice, from her own address, is never affected.
          assert((await attempt(alice, now + 60)) === "ok");
          await creditSuccess(db, tags, "login", "alice", alice, at(now + 60));
          // The attacker's wait doubles but stops at the cap.
          let waited = 0;
          for (let round = 0; round < 20; round++) {
            now += capMs + 1;
            assert((await attempt(attacker, now)) === "ok", `round ${round}`);
            const e = await guardRequest(db, {
              nonce: nonce(),
              ts: t0,
              rateClass: "login",
              identity: "alice",
              addressTag: attacker,
              tags,
              now: at(now + 1),
            })
              .then(() => undefined, (err) => err as ApiError);
            if (e) waited = Number(e.details?.retryAfterMs);
          }
          assert(waited > 0 && waited <= capMs, `waited ${waited}`);
        },
      );

      await t.step(
        "from a known address (one round trip): replay, address window and backoff still apply",
        async () => {
          const { sql } = await import("kysely");
          const { free } = RATE_CLASSES.login.backoff;
          const { limit } = RATE_CLASSES.login.perAddress;
          const home = addressTag("198.51.100.30");
          const base = 20_000_000;
          const input = (n: string, ms: number) => ({
            nonce: n,
            ts: t0,
            rateClass: "login" as const,
            identity: "carol",
            addressTag: home,
            tags,
            now: at(base + ms),
            query: tdb.query, // as the vault runs it (prepared on PostgreSQL)
          });
          const backoffHits = async () =>
            (await sql<{ hits: number }>`select hits from rate_limits where key = ${`b:login:${
              tags.identity("carol")
            }:${home}`}`.execute(db)).rows[0]?.hits ?? 0;
          assert((await code(guardRequest(db, input(nonce(), 0)))) === "ok");
          await creditSuccess(db, tags, "login", "carol", home, at(base));
          const n = nonce();
          assert((await code(guardRequest(db, input(n, 1)))) === "ok");
          assert(await backoffHits() === 1, "the known address's attempt is counted");
          assert((await code(guardRequest(db, input(n, 2)))) === "replayed_nonce");
          assert(await backoffHits() === 1, "a replay counts nothing");
          for (let i = 1; i < free; i++) {
            assert((await code(guardRequest(db, input(nonce(), 2 + i)))) === "ok");
          }
          assert((await code(guardRequest(db, input(nonce(), 10)))) === "backoff", "blocked");
          await creditSuccess(db, tags, "login", "carol", home, at(base + 11));
          assert((await code(guardRequest(db, input(nonce(), 12)))) === "ok", "cleared");
          const counted = await backoffHits();
          await sql`update rate_limits set hits = ${limit} where key = ${`a:login:${home}`}`
            .execute(db);
          assert((await code(guardRequest(db, input(nonce(), 13)))) === "rate_limited");
          assert(await backoffHits() === counted, "past the address window nothing else counts");
        },
      );

      await t.step("per-identity window counts only addresses that never succeeded", async () => {
        const { limit } = RATE_CLASSES.login.perIdentity;
        const base = 10_000_000;
        let refused = 0;
        for (let i = 0; i < limit + 5; i++) {
          const tag = addressTag(`203.0.113.${i % 250}:${i}`);
          const c = await code(
            guardRequest(db, {
              nonce: nonce(),
              ts: t0,
              rateClass: "login",
              identity: "bob",
              addressTag: tag,
              tags,
              now: at(base + i),
            }),
          );
          // Past the sign-in window: refused unless it carries a proof of work.
          if (c === "pow_required") refused++;
        }
        assert(refused === 5, `refused ${refused}`);
        const bobHome = addressTag("198.51.100.20");
        const { sql } = await import("kysely");
        await sql`insert into known_addresses values ('bob', ${bobHome}, ${at(base)})`.execute(db);
        assert(
          (await code(
            guardRequest(db, {
              nonce: nonce(),
              ts: t0,
              rateClass: "login",
              identity: "bob",
              addressTag: bobHome,
              tags,
              now: at(base + 100),
            }),
          )) === "ok",
        );
      });

      await t.step(
        "past the sign-in window a solved challenge lets one attempt in, once",
        async () => {
          const { solvePow } = await import("../applet/mod.ts");
          const { initWasmCrypto } = await import("../wasm-crypto/mod.ts");
          await initWasmCrypto();
          const tag = addressTag("203.0.113.250");
          const attempt = (pow?: { challenge: string; solution: string }) =>
            guardRequest(db, {
              nonce: nonce(),
              ts: t0,
              rateClass: "login",
              identity: "bob",
              addressTag: tag,
              tags,
              pow,
              now: at(10_000_000 + 500),
            }).then(() => undefined, (err) => err as ApiError);
          const refused = await attempt();
          assert(refused?.code === "pow_required", String(refused?.code));
          const challenge = refused!.details as { challenge: string; bits: number };
          const pow = { challenge: challenge.challenge, solution: solvePow(challenge) };
          assert((await attempt({ ...pow, solution: "0" }))?.code === "pow_required", "unsolved");
          assert((await attempt(pow)) === undefined, "solved");
          assert((await attempt(pow))?.code === "pow_required", "spent");
        },
      );

      await t.step("pruneGuardState() drops expired nonces and old windows", async () => {
        const removed = await pruneGuardState(db, at(400 * 86_400_000));
        assert(removed > 0);
      });
    } finally {
      await tdb.dispose();
    }
  },
});
