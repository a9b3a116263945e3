/**
 * The strength checker: zxcvbn-ts with its common and English dictionaries, the policy
 * ({@link judge}) and the diceware generator over the EFF large word list. This is what
 * the strength bundle holds (`strength_worker.ts` is its entry); it is large (the
 * dictionaries), so neither the page nor the signing worker imports it: the page loads
 * the bundle only when someone starts choosing a new pass phrase (docs/passphrase.md).
 *
 * @module
 */
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as zxcvbnCommon from "@zxcvbn-ts/language-common";
import * as zxcvbnEn from "@zxcvbn-ts/language-en";
import effLargeWordList from "./eff_large_wordlist.txt" with { type: "text" };
import { type Estimator, judge, type Verdict } from "./policy.ts";
import { parseWordList, type RandomSource, suggestWords } from "./diceware.ts";

/** The checker's two operations. */
export interface StrengthChecker {
  /** The policy's verdict on a new pass phrase. */
  assess(phrase: string, userInputs?: string[]): Verdict;
  /** A generated pass phrase: six EFF words joined by spaces. */
  suggest(random?: RandomSource): string;
}

let _wordList: readonly string[] | null = null;

/** The EFF large word list, parsed (and checked) once. */
export function effWordList(): readonly string[] {
  return _wordList ??= parseWordList(effLargeWordList);
}

/** Builds the checker (zxcvbn's dictionaries are unpacked here, ~0.2 s). */
export function createStrengthChecker(): StrengthChecker {
  const zxcvbn = new ZxcvbnFactory({
    dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEn.dictionary },
    graphs: zxcvbnCommon.adjacencyGraphs,
    translations: zxcvbnEn.translations,
  });
  const estimate: Estimator = (phrase, userInputs) => {
    const r = zxcvbn.check(phrase, userInputs);
    return { score: r.score, feedback: r.feedback };
  };
  const words = effWordList();
  return {
    assess: (phrase, userInputs = []) => judge(phrase, estimate, userInputs),
    suggest: (random) => suggestWords(words, undefined, random).join(" "),
  };
}
