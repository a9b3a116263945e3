/**
 * Generated pass phrases: {@link WORDS_PER_PHRASE} words drawn uniformly and independently
 * from the EFF large word list (`eff_large_wordlist.txt`, 7776 = 6^5 words, CC BY 3.0 US,
 * see `EFF_WORDLIST.md`), so a phrase carries 6 · log2(7776) ≈ 77.5 bits
 * (docs/passphrase.md).
 *
 * Uniform: each index comes from `crypto.getRandomValues` with rejection sampling
 * ({@link uniformIndex}); a plain `x % 7776` of a 32-bit draw would favour the first
 * 2^32 mod 7776 = 2560 words. Not constant time (the rejection loop's length depends on
 * the draws, which are discarded); the chosen words are secret, the time says nothing
 * about them.
 *
 * @module
 */

/** Words in a generated pass phrase. */
export const WORDS_PER_PHRASE = 6;

/** Entries in a diceware list of five dice. */
export const DICEWARE_SIZE = 6 ** 5;

/** Fills `out` with random words; `crypto.getRandomValues` unless a test passes its own. */
export type RandomSource = (out: Uint32Array) => void;

const _cryptoRandom: RandomSource = (out) => {
  crypto.getRandomValues(out);
};

/**
 * Parses a diceware list in EFF's format: one `ddddd<TAB>word` line per entry, the dice
 * codes 11111…66666 in order, every word distinct, lower-case letters and hyphens.
 * Throws on anything else, so a damaged list fails loudly instead of weakening phrases.
 */
export function parseWordList(text: string): readonly string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length !== DICEWARE_SIZE) {
    throw new Error(`diceware: ${lines.length} entries, expected ${DICEWARE_SIZE}`);
  }
  const words: string[] = [];
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const m = /^([1-6]{5})\t([a-z]+(?:-[a-z]+)*)$/.exec(line);
    if (!m || m[1] !== _diceCode(i) || seen.has(m[2])) {
      throw new Error(`diceware: bad entry ${i + 1}: ${JSON.stringify(line.slice(0, 40))}`);
    }
    seen.add(m[2]);
    words.push(m[2]);
  }
  return Object.freeze(words);
}

/** The dice code of entry `i` (0 → "11111", 7775 → "66666"). */
function _diceCode(i: number): string {
  let code = "";
  for (let d = 0; d < 5; d++) {
    code = String((i % 6) + 1) + code;
    i = Math.floor(i / 6);
  }
  return code;
}

/**
 * A uniform integer in [0, n), 1 ≤ n ≤ 2^32, by rejection sampling: 32-bit draws at or
 * above `limit` = 2^32 − (2^32 mod n), the largest multiple of n that fits, are discarded,
 * so every residue has exactly limit / n preimages.
 */
export function uniformIndex(n: number, random: RandomSource = _cryptoRandom): number {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) {
    throw new RangeError(`diceware: uniformIndex(${n}), expected an integer in [1, 2^32]`);
  }
  const limit = 2 ** 32 - (2 ** 32 % n);
  const draw = new Uint32Array(1);
  for (;;) {
    random(draw);
    if (draw[0] < limit) {
      const index = draw[0] % n;
      draw[0] = 0;
      return index;
    }
  }
}

/** `count` words drawn uniformly and independently from `words` (repeats allowed). */
export function suggestWords(
  words: readonly string[],
  count: number = WORDS_PER_PHRASE,
  random: RandomSource = _cryptoRandom,
): string[] {
  return Array.from({ length: count }, () => words[uniformIndex(words.length, random)]);
}

/** Bits of entropy of `count` words drawn uniformly from a list of `size`. */
export function entropyBits(size: number, count: number = WORDS_PER_PHRASE): number {
  return count * Math.log2(size);
}
