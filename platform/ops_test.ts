import { assertEquals } from "../tests/fixtures/assert.ts";
import { b64uDecode, b64uEncode } from "../protocol/mod.ts";
import { ApiError } from "./errors.ts";
import { B64U_PATTERN, OPS, parseOpBody } from "./ops.ts";

Deno.test("B64U_PATTERN accepts exactly what b64uDecode decodes", () => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const decodes = (s: string) => {
    try {
      b64uDecode(s);
      return true;
    } catch {
      return false;
    }
  };
  for (let n = 0; n < 300; n++) {
    const len = n % 9;
    let s = "";
    for (let i = 0; i < len; i++) s += alphabet[(n * 7 + i * 13 + (n >> 3)) % 64];
    assertEquals(B64U_PATTERN.test(s), decodes(s), JSON.stringify(s));
  }
  for (let len = 0; len < 40; len++) {
    const s = b64uEncode(crypto.getRandomValues(new Uint8Array(len)));
    assertEquals(B64U_PATTERN.test(s), true, s);
  }
  for (const tail of alphabet) {
    assertEquals(B64U_PATTERN.test(`A${tail}`), decodes(`A${tail}`), `A${tail}`);
    assertEquals(B64U_PATTERN.test(`AA${tail}`), decodes(`AA${tail}`), `AA${tail}`);
  }
});

// Regression, pinned to the fuzzer's minimal counterexample (seed 12345): an OPAQUE record
// of impossible base64url length passed the schema and made the vault answer 500.
Deno.test("apply / reregister with registrationRecord = 65 × 'A' → 400 invalid_request", () => {
  for (const op of ["apply", "reregister"] as const) {
    for (const bad of ["A".repeat(65), "A".repeat(62) + "B", "A".repeat(61) + "B"]) {
      let err: ApiError | undefined;
      try {
        parseOpBody(OPS[op] as never, { registrationRecord: bad });
      } catch (e) {
        err = e as ApiError;
      }
      assertEquals(err instanceof ApiError, true);
      if (!err) return;
      assertEquals(err.code, "invalid_request");
      const issues = (err.details?.issues ?? []) as { path: string }[];
      assertEquals(issues.some((i) => i.path === "registrationRecord"), true, op + bad);
    }
  }
});
