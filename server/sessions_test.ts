import assert from "node:assert/strict";
import { MemorySessionStore } from "./sessions.ts";

Deno.test("MemorySessionStore: expired sessions are refused at once and swept by a later create", async () => {
  let now = 1_000_000;
  const store = new MemorySessionStore({ idleMs: 10_000, keyWithinMs: 5_000, now: () => now });
  const { session: a } = await store.create("192.0.2.1");
  now += 6_000; // past keyWithinMs: `a` never got KS
  assert.equal(await store.lookup(a.sid), "expired");
  const { session: b } = await store.create("192.0.2.2");
  now += 500;
  const { session: c } = await store.create("192.0.2.3"); // within a second: no sweep needed
  assert.notEqual(await store.lookup(b.sid), "expired");
  now += 6_000; // b and c expire
  const { session: d } = await store.create("192.0.2.4"); // a second later: swept
  assert.equal(store.size, 1);
  assert.equal(await store.lookup(c.sid), "unknown");
  assert.equal(typeof await store.lookup(d.sid), "object");
});

Deno.test("MemorySessionStore: at capacity, an unkeyed session is evicted before a keyed one", async () => {
  let now = 0;
  const store = new MemorySessionStore({ maxSessions: 2, now: () => now });
  const { session: keyed } = await store.create("192.0.2.1");
  assert.equal(await store.setKeys(keyed, new Uint8Array(32).fill(7)), true);
  const { session: bare } = await store.create("192.0.2.2");
  now += 10;
  await store.create("192.0.2.3");
  assert.equal(store.size, 2);
  assert.equal(await store.lookup(bare.sid), "unknown");
  assert.equal(typeof await store.lookup(keyed.sid), "object");
});

Deno.test("MemorySessionStore.accept(): the next number once, one request at a time", async () => {
  const store = new MemorySessionStore();
  const { session: s } = await store.create("192.0.2.1");
  assert.equal(await store.setKeys(s, new Uint8Array(32).fill(1)), true);
  assert.equal(await store.setKeys(s, new Uint8Array(32).fill(2)), false);
  assert.equal(await store.accept(s, 2), "out_of_order");
  const both = await Promise.all([store.accept(s, 1), store.accept(s, 1)]);
  assert.deepEqual(both.toSorted(), ["accepted", "replayed"]);
  assert.equal(await store.accept(s, 2), "in_flight");
  await store.release(s);
  assert.equal(await store.accept(s, 2), "accepted");
  await store.delete(s.sid);
  assert.equal(await store.accept(s, 3), "gone");
});
