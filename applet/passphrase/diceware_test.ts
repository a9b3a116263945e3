import { assertEquals, assertOk, assertThrows } from "../../tests/fixtures/assert.ts";
import { toHex } from "../../protocol/mod.ts";
import {
  DICEWARE_SIZE,
  entropyBits,
  parseWordList,
  type RandomSource,
  suggestWords,
  uniformIndex,
  WORDS_PER_PHRASE,
} from "./diceware.ts";
import { createStrengthChecker, effWordList } from "./strength.ts";

const LIST_URL = new URL("./eff_large_wordlist.txt", import.meta.url);

/** A random source that hands out `values` in order (and fails when they run out). */
function scripted(values: number[]): RandomSource & { used: () => number } {
  let i = 0;
  const source = (out: Uint32Array) => {
    for (let k = 0; k < out.length; k++) {
      if (i >= values.length) throw new Error("scripted source exhausted");
      out[k] = values[i++];
    }
  };
  return Object.assign(source, { used: () => i });
}

Deno.test("the shipped word list is EFF's large list byte for byte (SHA-256, 108800 bytes)", async () => {
  const bytes = await Deno.readFile(LIST_URL);
  assertEquals(bytes.length, 108800);
  const digest = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
  assertEquals(digest, "addd35536511597a02fa0a9ff1e5284677b8883b83e986e43f15a3db996b903e");
});

Deno.test("effWordList() has 7776 distinct words, 11111 abacus … 66666 zoom", () => {
  const words = effWordList();
  assertEquals(words.length, DICEWARE_SIZE);
  assertEquals(new Set(words).size, DICEWARE_SIZE);
  assertEquals([words[0], words[DICEWARE_SIZE - 1]], ["abacus", "zoom"]);
});

Deno.test("parseWordList() refuses a short list, a wrong dice code and a duplicate word", async () => {
  const text = await Deno.readTextFile(LIST_URL);
  const lines = text.trimEnd().split("\n");
  assertThrows(() => parseWordList(lines.slice(1).join("\n")));
  assertThrows(() => parseWordList(["11112\tabacus", ...lines.slice(1)].join("\n")));
  assertThrows(() => parseWordList([lines[0], "11112\tabacus", ...lines.slice(2)].join("\n")));
  assertThrows(() => parseWordList([lines[0], "11112\tAbdomen", ...lines.slice(2)].join("\n")));
});

Deno.test("six words carry 77.5 bits", () => {
  assertEquals(WORDS_PER_PHRASE, 6);
  const bits = entropyBits(DICEWARE_SIZE);
  assertOk(bits > 77.5 && bits < 77.6, String(bits));
});

Deno.test("uniformIndex() rejects draws at or above the largest multiple of n", () => {
  const n = 7776;
  const limit = 2 ** 32 - (2 ** 32 % n); // 2^32 mod 7776 = 2560
  assertEquals(limit, 4294964736);
  // Each rejected draw would have mapped into the first 2560 words with a plain modulo.
  const src = scripted([0xffffffff, limit, limit + 2559, limit - 1]);
  assertEquals(uniformIndex(n, src), (limit - 1) % n);
  assertEquals(src.used(), 4);
  assertEquals(uniformIndex(n, scripted([7777])), 1);
  assertEquals(uniformIndex(n, scripted([0])), 0);
});

Deno.test("uniformIndex() takes no draw it does not need for n = 2^k (nothing to reject)", () => {
  const src = scripted([0xffffffff]);
  assertEquals(uniformIndex(8, src), 7);
  assertEquals(src.used(), 1);
  assertEquals(uniformIndex(2 ** 32, scripted([0xfffffffe])), 0xfffffffe);
});

Deno.test("uniformIndex() refuses n outside [1, 2^32]", () => {
  for (const n of [0, -1, 1.5, 2 ** 32 + 1, NaN]) assertThrows(() => uniformIndex(n), RangeError);
});

Deno.test("uniformIndex() rejects exactly the top 2^32 mod n draws (n = 6: four of them)", () => {
  const n = 6;
  const rejected: number[] = [];
  const counts = new Array(n).fill(0);
  for (let draw = 2 ** 32 - 256; draw < 2 ** 32; draw++) {
    try {
      counts[uniformIndex(n, scripted([draw]))]++;
    } catch {
      rejected.push(draw); // the scripted source ran out: uniformIndex asked for another draw
    }
  }
  assertEquals(rejected, [2 ** 32 - 4, 2 ** 32 - 3, 2 ** 32 - 2, 2 ** 32 - 1]);
  // What is kept ends on a whole cycle of residues: 252 draws, 42 for each index.
  assertEquals(counts, [42, 42, 42, 42, 42, 42]);
});

Deno.test("uniformIndex() with crypto.getRandomValues: 777,600 draws over 7776 words pass chi-square", () => {
  const n = DICEWARE_SIZE;
  const perBucket = 100;
  const counts = new Uint32Array(n);
  for (let i = 0; i < n * perBucket; i++) counts[uniformIndex(n)]++;
  let chi2 = 0;
  for (const c of counts) chi2 += (c - perBucket) ** 2 / perBucket;
  // df = 7775: mean 7775, sd √(2·7775) ≈ 124.7; ±6 sd fails by chance about once in 10^9.
  assertOk(Math.abs(chi2 - (n - 1)) < 6 * Math.sqrt(2 * (n - 1)), `chi2 = ${chi2}`);
  // Modulo bias would show as the first 2560 words drawn more often than the rest.
  let low = 0;
  for (let i = 0; i < 2560; i++) low += counts[i];
  const expected = 2560 * perBucket;
  assertOk(Math.abs(low - expected) < 6 * Math.sqrt(expected), `first 2560: ${low}`);
});

Deno.test("suggestWords() gives six words, all from the list, drawn independently", () => {
  const words = effWordList();
  const list = new Set(words);
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const s = suggestWords(words);
    assertEquals(s.length, 6);
    for (const w of s) assertOk(list.has(w), w);
    seen.add(s.join(" "));
  }
  assertEquals(seen.size, 500, "no repeated phrase in 500 (77.5 bits)");
  // Indices come straight from the source: a scripted one picks known words.
  assertEquals(suggestWords(words, 6, scripted([0, 1, 2, 7773, 7774, 7775])), [
    "abacus",
    "abdomen",
    "abdominal",
    "zoologist",
    "zoology",
    "zoom",
  ]);
});

Deno.test("every suggested phrase passes the policy (zxcvbn knows the EFF words)", () => {
  const checker = createStrengthChecker();
  for (let i = 0; i < 100; i++) {
    const phrase = checker.suggest();
    const v = checker.assess(phrase);
    assertOk(v.acceptable, `${phrase}: ${v.reasons.join(" ")}`);
  }
});
