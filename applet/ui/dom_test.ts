import { assertEquals } from "../../tests/fixtures/assert.ts";
import { groupDigits } from "./dom.ts";

Deno.test("groupDigits() writes what toLocaleString('en') writes, without ICU", () => {
  const cases = [0, 7, 999, 1000, 65_536, 65_530, 999_999, 1_000_000, 26_214_400, 123_456_789];
  for (let i = 0; i < 200; i++) cases.push(Math.floor(Math.random() * 2 ** 40));
  for (const n of cases) assertEquals(groupDigits(n), n.toLocaleString("en"), String(n));
});
