import { assertEquals } from "../tests/fixtures/assert.ts";
import { AddressLimit } from "./address_limit.ts";

Deno.test("address limit: a fixed window per address, other addresses untouched", () => {
  let t = 1_000;
  const l = new AddressLimit({ limit: 3, windowMs: 60_000, now: () => t });
  assertEquals([l.hit("a"), l.hit("a"), l.hit("a")], [0, 0, 0]);
  assertEquals(l.hit("a"), 60_000);
  assertEquals(l.hit("b"), 0);
  t += 59_000;
  assertEquals(l.hit("a"), 1_000);
  t += 1_000;
  assertEquals(l.hit("a"), 0);
});

Deno.test("address limit: 0 switches it off; the table stays bounded", () => {
  const off = new AddressLimit({ limit: 0, windowMs: 60_000 });
  for (let i = 0; i < 10; i++) assertEquals(off.hit("a"), 0);
  const l = new AddressLimit({ limit: 1, windowMs: 60_000, maxAddresses: 10 });
  for (let i = 0; i < 1_000; i++) assertEquals(l.hit(`addr${i}`), 0);
});
