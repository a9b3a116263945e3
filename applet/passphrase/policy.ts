/**
 * The pass-phrase policy for a **new** pass phrase (apply, re-registration), in one place
 * (docs/passphrase.md): at least {@link MIN_LENGTH} characters and a zxcvbn strength score
 * of at least {@link MIN_SCORE}, with a plain-language reason when a phrase falls short.
 *
 * Only the applet can apply it: the pass phrase never leaves the browser (OPAQUE), so the
 * server cannot check it. The strength estimate needs zxcvbn's dictionaries, which are too
 * large for the page or the signing worker; it runs in the strength worker
 * (`strength_worker.ts`), loaded on demand. This file is pure (no DOM, no zxcvbn import):
 * the worker passes its estimator in, and the client flows import {@link MIN_LENGTH} for
 * their own length floor.
 *
 * @module
 */

/** Fewest characters (Unicode code points) a new pass phrase may have. */
export const MIN_LENGTH = 12;

/**
 * Lowest zxcvbn score a new pass phrase may have: 3 is "safely unguessable: moderate
 * protection from offline slow-hash scenario" (≥ 10^8 guesses).
 */
export const MIN_SCORE = 3;

/** What a strength estimator says about a phrase (the part of a zxcvbn result we use). */
export interface Estimate {
  /** 0 (too guessable) … 4 (very unguessable). */
  score: number;
  feedback: { warning: string | null; suggestions: string[] };
}

/** Estimates the strength of `phrase`; `userInputs` are words the phrase should not lean on. */
export type Estimator = (phrase: string, userInputs: string[]) => Estimate;

/** The policy's verdict on one phrase. */
export interface Verdict {
  acceptable: boolean;
  /** Characters (code points) in the phrase. */
  length: number;
  score: number;
  /** Why the phrase is refused, in plain language, most important first; empty if acceptable. */
  reasons: string[];
}

/** Number of characters as a person counts them (code points, not UTF-16 units or bytes). */
export function characterCount(phrase: string): number {
  let n = 0;
  for (const _ of phrase) n++;
  return n;
}

/** The length rule alone, as a reason, or null when long enough. */
export function lengthReason(length: number): string | null {
  return length >= MIN_LENGTH
    ? null
    : `Use at least ${MIN_LENGTH} characters (this one has ${length}). ` +
      "Several unrelated words are easiest to remember.";
}

/**
 * Judges a new pass phrase: long enough and scored at least {@link MIN_SCORE} by
 * `estimate`. `userInputs` (the identity, the name) count against a phrase built on them.
 */
export function judge(phrase: string, estimate: Estimator, userInputs: string[] = []): Verdict {
  const length = characterCount(phrase);
  const { score, feedback } = estimate(phrase, userInputs.filter((s) => s.length > 0));
  const reasons: string[] = [];
  const short = lengthReason(length);
  if (short) reasons.push(short);
  if (score < MIN_SCORE) {
    reasons.push(
      feedback.warning
        ? `Too easy to guess: ${feedback.warning}`
        : "Too easy to guess for a pass phrase that protects your signing key.",
      ...feedback.suggestions,
    );
  }
  return { acceptable: reasons.length === 0, length, score, reasons };
}
