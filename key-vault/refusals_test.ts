import { assertEquals } from "../tests/fixtures/assert.ts";
import { ApiError } from "../platform/mod.ts";
import { OPS } from "../platform/mod.ts";
import { refusalAudited } from "./refusals.ts";

Deno.test("refusalAudited: operation 4xx refusals, not reads, 5xx or self-audited ones", () => {
  const e = (status: 400 | 401 | 403 | 409 | 423 | 500, code: string) =>
    new ApiError(status, code, code);
  assertEquals(refusalAudited(OPS.revoke, e(403, "account_revoked")), true);
  assertEquals(refusalAudited(OPS.reregister, e(409, "key_superseded")), true);
  assertEquals(refusalAudited(OPS["registration.update"], e(400, "key_record_mismatch")), true);
  assertEquals(refusalAudited(OPS.consent, e(400, "registration_mismatch")), true);
  assertEquals(refusalAudited(OPS.consent, e(423, "consent_locked")), true);
  assertEquals(refusalAudited(OPS["login.finish"], e(401, "login_expired")), true);
  // audited by the operation itself
  assertEquals(refusalAudited(OPS.consent, e(403, "wrong_phrase")), false);
  assertEquals(refusalAudited(OPS.consent, e(403, "consent_locked")), false);
  assertEquals(refusalAudited(OPS["login.finish"], e(401, "login_failed")), false);
  // reads, server errors, non-API errors
  assertEquals(refusalAudited(OPS["directory.get"], e(403, "no_certificate")), false);
  assertEquals(refusalAudited(OPS.revoke, e(500, "internal")), false);
  assertEquals(refusalAudited(OPS.revoke, new Error("x")), false);
});
