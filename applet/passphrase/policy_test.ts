import { assertEquals, assertOk } from "../../tests/fixtures/assert.ts";
import { characterCount, type Estimate, judge, MIN_LENGTH, MIN_SCORE } from "./policy.ts";
import { createStrengthChecker } from "./strength.ts";
import { checkNewLength, FlowError } from "../client/flows/mod.ts";
import { utf8 } from "../../protocol/mod.ts";

/** An estimator that answers `estimate` and records what it was asked. */
function fixed(estimate: Estimate) {
  const calls: { phrase: string; userInputs: string[] }[] = [];
  return {
    calls,
    estimate: (phrase: string, userInputs: string[]) => {
      calls.push({ phrase, userInputs });
      return estimate;
    },
  };
}
const STRONG: Estimate = { score: 4, feedback: { warning: null, suggestions: [] } };

Deno.test("the policy is 12 characters and zxcvbn score 3", () => {
  assertEquals([MIN_LENGTH, MIN_SCORE], [12, 3]);
});

Deno.test("judge() refuses 11 characters however strong, with the length as the reason", () => {
  const v = judge("a".repeat(11), fixed(STRONG).estimate);
  assertEquals(v.acceptable, false);
  assertEquals(v.length, 11);
  assertEquals(v.reasons.length, 1);
  assertOk(/at least 12 characters \(this one has 11\)/.test(v.reasons[0]), v.reasons[0]);
});

Deno.test("judge() accepts 12 characters at score 3 and refuses score 2", () => {
  const ok = judge("x".repeat(12), fixed({ ...STRONG, score: 3 }).estimate);
  assertEquals([ok.acceptable, ok.reasons], [true, []]);
  const weak = judge(
    "x".repeat(12),
    fixed({
      score: 2,
      feedback: { warning: "This is a top-100 password.", suggestions: ["Add a word."] },
    })
      .estimate,
  );
  assertEquals(weak.acceptable, false);
  assertEquals(weak.reasons, ["Too easy to guess: This is a top-100 password.", "Add a word."]);
});

Deno.test("judge() gives a plain reason when the estimator has no warning", () => {
  const v = judge(
    "y".repeat(20),
    fixed({ score: 1, feedback: { warning: null, suggestions: [] } }).estimate,
  );
  assertEquals(v.acceptable, false);
  assertOk(/Too easy to guess/.test(v.reasons[0]), v.reasons[0]);
});

Deno.test("judge() passes the non-empty user inputs to the estimator", () => {
  const f = fixed(STRONG);
  judge("z".repeat(12), f.estimate, ["alice", "", "Alice Smith"]);
  assertEquals(f.calls, [{ phrase: "z".repeat(12), userInputs: ["alice", "Alice Smith"] }]);
});

Deno.test("characterCount() counts code points, not UTF-16 units or bytes", () => {
  assertEquals(characterCount("ééé"), 3);
  assertEquals(characterCount("🔑🔑"), 2);
  assertEquals(characterCount(""), 0);
  // 12 UTF-16 units but 6 characters: refused.
  assertEquals(judge("🔑".repeat(6), fixed(STRONG).estimate).acceptable, false);
});

// With the real estimator (zxcvbn-ts and its dictionaries, as the strength bundle runs it).
const checker = createStrengthChecker();

Deno.test("zxcvbn: 'passwordpassword' (16 characters) is refused, and says why", () => {
  const v = checker.assess("passwordpassword");
  assertEquals(v.acceptable, false);
  assertOk(v.score < MIN_SCORE, `score ${v.score}`);
  assertOk(v.reasons.length > 0 && /Too easy to guess: \S/.test(v.reasons[0]), v.reasons.join());
});

Deno.test("zxcvbn: common weak phrases of 12+ characters are refused", () => {
  for (const p of ["qwertyuiopasdf", "iloveyou12345678", "123456789012", "aaaaaaaaaaaaaaaa"]) {
    assertEquals(checker.assess(p).acceptable, false, p);
  }
});

Deno.test("zxcvbn: a phrase built on the user's own identity is refused with it as input", () => {
  const phrase = "jsmith1987jsmith";
  const alone = checker.assess(phrase);
  const withInputs = checker.assess(phrase, ["jsmith1987", "John Smith"]);
  assertEquals(alone.acceptable, true, "strong enough for someone else");
  assertEquals(withInputs.acceptable, false);
  assertOk(/personal/.test(withInputs.reasons[0]), withInputs.reasons[0]);
});

Deno.test("zxcvbn: the test suites' pass phrases pass the policy", () => {
  for (const p of ["correct horse battery 0f3a9c27d1e4b5a6", "pass phrase of u1a2b3c4d5"]) {
    assertOk(checker.assess(p).acceptable, p);
  }
});

Deno.test("checkNewLength() (the flows' floor for a new pass phrase) is the policy's length", () => {
  let err: unknown = null;
  try {
    checkNewLength(utf8("a".repeat(MIN_LENGTH - 1)));
  } catch (e) {
    err = e;
  }
  assertOk(err instanceof FlowError && err.code === "weak_passphrase", String(err));
  checkNewLength(utf8("é".repeat(MIN_LENGTH))); // 24 bytes, 12 characters: enough
  try {
    checkNewLength(utf8("🔑".repeat(MIN_LENGTH - 1))); // 44 bytes, 11 characters
    err = null;
  } catch (e) {
    err = e;
  }
  assertOk(err instanceof FlowError && err.code === "weak_passphrase", String(err));
});
