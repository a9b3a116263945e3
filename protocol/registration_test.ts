import { assertEquals, assertThrows } from "../tests/fixtures/assert.ts";
import { normalizeRegistration, RegistrationError } from "./registration.ts";

const base = {
  identity: "ada",
  fullName: "Ada Lovelace",
  accountNumber: "12345678",
  address: "12 St James's Square, London",
};

// Regression: a NUL in registration data reached PostgreSQL, which cannot store it (500).
Deno.test("registration data: control characters and unpaired surrogates are refused", () => {
  for (
    const bad of [
      "Ada\u0000Lovelace",
      "Ada\u0001",
      "Ada\nLovelace",
      "Ada\u007f",
      "\u0085x",
      "\ud800x",
    ]
  ) {
    for (const field of ["fullName", "accountNumber", "address"] as const) {
      assertThrows(() => normalizeRegistration({ ...base, [field]: bad }), RegistrationError);
    }
  }
  assertEquals(
    normalizeRegistration({ ...base, fullName: "Zoë Ñúñez 李" }).fullName,
    "Zoë Ñúñez 李",
  );
});
