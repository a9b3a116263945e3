import { ERROR_CODES, ERROR_MESSAGES, isErrorCode } from "../protocol/mod.ts";
import { ApiError, errorBody } from "./errors.ts";
import { assert, assertEquals } from "../tests/fixtures/assert.ts";

Deno.test("ErrorCode lists exactly the HTTP codes of docs/errors.md", async () => {
  const doc = await Deno.readTextFile(new URL("../docs/errors.md", import.meta.url));
  const documented = new Set<string>();
  for (const line of doc.split("\n")) {
    // | `code` | status | where | meaning |; the applet's own codes (status —, where A) aside
    const m = /^\|\s*`([a-z_]+)`\s*\|[^|]*\|\s*([^|]*?)\s*\|/.exec(line);
    if (m && m[2] !== "A") documented.add(m[1]);
  }
  for (const code of ["bad_request", "unauthorized", "forbidden", "not_found", "timeout"]) {
    documented.add(code); // hono's generic codes, named in the text
  }
  assertEquals([...ERROR_CODES].sort().join(" "), [...documented].sort().join(" "));
});

Deno.test("every ErrorCode has a plain message", () => {
  for (const code of ERROR_CODES) assert(ERROR_MESSAGES[code].length > 0, code);
  assert(isErrorCode("consent_expired") && !isErrorCode("toString"));
});

Deno.test("ApiError keeps its status and code in the envelope", () => {
  const err = new ApiError(410, "consent_expired", "apply again");
  assertEquals(err.status, 410);
  assertEquals(err.code, "consent_expired");
  assertEquals(
    JSON.stringify(errorBody(err.code, err.message)),
    '{"error":{"code":"consent_expired","message":"apply again"}}',
  );
});
