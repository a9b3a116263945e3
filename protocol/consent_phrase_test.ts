import {
  ConsentPhraseError,
  formatConsentPhrase,
  generateConsentPhrase,
  parseConsentPhrase,
} from "./consent_phrase.ts";
import { assert } from "../tests/fixtures/assert.ts";

function expectCode(f: () => unknown, code: string): ConsentPhraseError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConsentPhraseError && e.code === code) return e;
    throw e;
  }
  throw new Error(`expected ${code}`);
}

Deno.test("generateConsentPhrase() gives 4 groups of 5 and round-trips its 80 bits", () => {
  for (let i = 0; i < 200; i++) {
    const { text, bytes } = generateConsentPhrase();
    assert(/^([0-9A-HJKMNP-TV-Z]{5}-){3}[0-9A-HJKMNP-TV-Z]{5}$/.test(text), text);
    assert(parseConsentPhrase(text).join() === bytes.join());
  }
});

Deno.test("parseConsentPhrase() forgives case, spaces, I/L/O", () => {
  const bytes = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 255]);
  const text = formatConsentPhrase(bytes);
  const sloppy = text.toLowerCase().replaceAll("-", " ").replaceAll("1", "l").replaceAll("0", "o");
  assert(parseConsentPhrase(sloppy).join() === bytes.join());
});

Deno.test("parseConsentPhrase() catches every single-character substitution and names the group", () => {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const { text } = generateConsentPhrase();
  let positions = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "-") continue;
    positions++;
    for (const ch of alphabet) {
      if (ch === text[i]) continue;
      const typo = text.slice(0, i) + ch + text.slice(i + 1);
      const err = expectCode(() => parseConsentPhrase(typo), "phrase_typo");
      assert(err.group === Math.floor(i / 6) + 1, `group ${err.group} for position ${i}`);
    }
  }
  assert(positions === 20);
});

Deno.test("parseConsentPhrase() catches most swaps of neighbours", () => {
  let swaps = 0;
  let caught = 0;
  for (let n = 0; n < 100; n++) {
    const { text } = generateConsentPhrase();
    for (let i = 0; i + 1 < text.length; i++) {
      if (text[i] === "-" || text[i + 1] === "-" || text[i] === text[i + 1]) continue;
      swaps++;
      const swapped = text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2);
      try {
        parseConsentPhrase(swapped);
      } catch {
        caught++;
      }
    }
  }
  // Luhn mod 32 misses only swaps of symbols whose values differ by 31 (0 ↔ Z).
  assert(caught / swaps > 0.99, `${caught}/${swaps}`);
});

Deno.test("parseConsentPhrase() rejects wrong lengths and foreign characters", () => {
  expectCode(() => parseConsentPhrase(""), "bad_phrase_format");
  expectCode(() => parseConsentPhrase("ABCDE-ABCDE-ABCDE"), "bad_phrase_format");
  expectCode(() => parseConsentPhrase("ABCDE-ABCDE-ABCDE-ABCD!"), "bad_phrase_format");
  expectCode(() => parseConsentPhrase("ABCDE-ABCDE-ABCDE-ABCDU"), "bad_phrase_format");
  expectCode(() => parseConsentPhrase("x".repeat(100)), "bad_phrase_format");
});
