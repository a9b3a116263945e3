import assert from "node:assert/strict";
import { SessionStore } from "./sessions.ts";

Deno.test("SessionStore: expired sessions are refused at once and swept by a later create", () => {
  let now = 1_000_000;
  const store = new SessionStore({ idleMs: 10_000, keyWithinMs: 5_000, now: () => now });
  const { session: a } = store.create("192.0.2.1");
  now += 6_000; // past keyWithinMs: `a` never got KS
  assert.equal(store.lookup(a.sid), "expired");
  const { session: b } = store.create("192.0.2.2");
  now += 500;
  const { session: c } = store.create("192.0.2.3"); // within a second: no sweep needed
  assert.notEqual(store.lookup(b.sid), "expired");
  now += 6_000; // b and c expire
  const { session: d } = store.create("192.0.2.4"); // a second later: swept
  assert.equal(store.size, 1);
  assert.equal(store.lookup(c.sid), "unknown");
  assert.equal(typeof store.lookup(d.sid), "object");
});

Deno.test("SessionStore: at capacity, an unkeyed session is evicted before a keyed one", () => {
  let now = 0;
  const store = new SessionStore({ maxSessions: 2, now: () => now });
  const { session: keyed } = store.create("192.0.2.1");
  keyed.keys = {} as never;
  const { session: bare } = store.create("192.0.2.2");
  now += 10;
  store.create("192.0.2.3");
  assert.equal(store.size, 2);
  assert.equal(store.lookup(bare.sid), "unknown");
  assert.equal(typeof store.lookup(keyed.sid), "object");
});
