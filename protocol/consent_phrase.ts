/**
 * Consent phrases (CPU, DESIGN.md §2.3): 80 random bits written as four groups of
 * five Crockford base32 characters, e.g. `7K2QX-M4TD9-0ZHRB-W8N3E`. In each group the
 * first four characters carry 20 bits and the fifth is a Luhn mod 32 check over the
 * group number and those four, so a mistyped character or two swapped neighbours are
 * caught (and the group named) before a guess is counted against the attempt limit.
 *
 * Pure and dependency-free: the applet, the proxy's schema and the vault share it.
 * Decoding is forgiving the way Crockford base32 is: case-insensitive, `I`/`L` read as
 * `1`, `O` as `0`, spaces and hyphens ignored.
 *
 * @module
 */

const _ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const _GROUPS = 4;
const _DATA_PER_GROUP = 4;

/** Entropy of a phrase in bits. */
export const CONSENT_PHRASE_BITS = 80;

/** Thrown for text that is not a well-formed consent phrase. */
export class ConsentPhraseError extends Error {
  readonly code: "bad_phrase_format" | "phrase_typo";
  /** For `phrase_typo`: the 1-based group whose check character does not match. */
  readonly group?: number;
  constructor(code: "bad_phrase_format" | "phrase_typo", message: string, group?: number) {
    super(message);
    this.name = "ConsentPhraseError";
    this.code = code;
    this.group = group;
  }
}

function _value(ch: string): number {
  const c = ch.toUpperCase();
  const mapped = c === "I" || c === "L" ? "1" : c === "O" ? "0" : c;
  return _ALPHABET.indexOf(mapped);
}

/** Luhn mod 32 check symbol over `symbols` (values 0..31). */
function _luhn32(symbols: number[]): number {
  let factor = 2;
  let sum = 0;
  for (let i = symbols.length - 1; i >= 0; i--) {
    let addend = factor * symbols[i];
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / 32) + (addend % 32);
    sum += addend;
  }
  return (32 - (sum % 32)) % 32;
}

/** 80 bits (10 bytes) → 16 base32 symbols, most significant first. */
function _toSymbols(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >>> bits) & 31);
    }
  }
  return out;
}

function _fromSymbols(symbols: number[]): Uint8Array {
  const out = new Uint8Array(10);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const s of symbols) {
    acc = ((acc << 5) | s) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

/** Formats 10 bytes as a phrase. */
export function formatConsentPhrase(bytes: Uint8Array): string {
  if (bytes.length !== 10) throw new Error("consent phrase: expected 10 bytes");
  const symbols = _toSymbols(bytes);
  const groups: string[] = [];
  for (let g = 0; g < _GROUPS; g++) {
    const data = symbols.slice(g * _DATA_PER_GROUP, (g + 1) * _DATA_PER_GROUP);
    const check = _luhn32([g, ...data]);
    groups.push([...data, check].map((v) => _ALPHABET[v]).join(""));
  }
  return groups.join("-");
}

/** A fresh random phrase: its text (for the letter) and its 10 bytes (for key derivation). */
export function generateConsentPhrase(): { text: string; bytes: Uint8Array } {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return { text: formatConsentPhrase(bytes), bytes };
}

/**
 * Parses a typed phrase into its 10 bytes. Throws {@link ConsentPhraseError}:
 * `bad_phrase_format` (wrong length or characters), `phrase_typo` (a check fails).
 */
export function parseConsentPhrase(input: string): Uint8Array {
  if (typeof input !== "string" || input.length > 64) {
    throw new ConsentPhraseError("bad_phrase_format", "consent phrase: expected 20 characters");
  }
  const compact = input.replace(/[\s-]/g, "");
  if (compact.length !== _GROUPS * (_DATA_PER_GROUP + 1)) {
    throw new ConsentPhraseError(
      "bad_phrase_format",
      "consent phrase: expected 4 groups of 5 characters",
    );
  }
  const values: number[] = [];
  for (const ch of compact) {
    const v = _value(ch);
    if (v < 0) {
      throw new ConsentPhraseError(
        "bad_phrase_format",
        "consent phrase: only letters and digits of the phrase alphabet",
      );
    }
    values.push(v);
  }
  const data: number[] = [];
  for (let g = 0; g < _GROUPS; g++) {
    const group = values.slice(g * 5, g * 5 + 5);
    if (_luhn32([g, ...group.slice(0, 4)]) !== group[4]) {
      throw new ConsentPhraseError(
        "phrase_typo",
        `consent phrase: group ${g + 1} has a typo`,
        g + 1,
      );
    }
    data.push(...group.slice(0, 4));
  }
  return _fromSymbols(data);
}

/** True when the text parses (for form validation before submitting). */
export function isWellFormedConsentPhrase(input: string): boolean {
  try {
    parseConsentPhrase(input).fill(0);
    return true;
  } catch {
    return false;
  }
}
