import { assert, assertEquals } from "../../tests/fixtures/assert.ts";
import { ApiError } from "../../platform/mod.ts";
import { b64uEncode, MESSAGE_MAX_BYTES } from "../../protocol/mod.ts";
import { OPERATIONS } from "./operations.ts";
import { parseWith } from "./request.ts";

/** What a zod message looks like ("Too big: expected string to have <=87382 characters"). */
const _SCHEMA_TEXT =
  /Too (big|small)|Invalid (input|string|option)|Unrecognized key|expected (string|number|object|array|record)|<=|>=/;

function refusal(op: keyof typeof OPERATIONS, args: unknown) {
  try {
    parseWith(OPERATIONS[op].schema, args, op);
  } catch (err) {
    assert(err instanceof ApiError, String(err));
    assert(!_SCHEMA_TEXT.test(err.message), `schema text: ${err.message}`);
    return { status: err.status, code: err.code, message: err.message, field: err.details?.field };
  }
  throw new Error(`${op}: accepted`);
}

const registration = {
  identity: "alice",
  fullName: "Alice Example",
  accountNumber: "12345678",
  address: "1 High Street",
};

Deno.test("a message over 64 KiB is message_too_long in plain words, naming the limit", () => {
  const r = refusal("message.submit", {
    message: b64uEncode(new Uint8Array(MESSAGE_MAX_BYTES + 1)),
    signature: "AAAA",
  });
  assertEquals([r.status, r.code, r.field], [400, "message_too_long", "message"]);
  assert(r.message.includes("65,536 bytes (64 KiB)"), r.message);
});

Deno.test("a message of exactly 64 KiB passes the schema", () => {
  const args = { message: b64uEncode(new Uint8Array(MESSAGE_MAX_BYTES)), signature: "AAAA" };
  assertEquals(OPERATIONS["message.submit"].schema.safeParse(args).success, true);
});

Deno.test("registration fields are refused as bad_registration, named as the page labels them", () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [
      { fullName: "x".repeat(201) },
      "fullName",
      /^The full name is too long: at most 200 characters\.$/,
    ],
    [{ accountNumber: "" }, "accountNumber", /^The account number is empty\.$/],
    [{ address: 5 }, "address", /^The address must be text\.$/],
  ];
  for (const [change, field, text] of cases) {
    const r = refusal("consent", { registration: { ...registration, ...change }, phrase: "x" });
    assertEquals([r.code, r.field], ["bad_registration", field]);
    assert(text.test(r.message), r.message);
  }
});

Deno.test("an identity anywhere is bad_identity with the identity rule", () => {
  for (
    const [op, args] of [
      ["login.start", { identity: "A B", startLoginRequest: "AAAA" }],
      ["consent", { registration: { ...registration, identity: "x" }, phrase: "x" }],
    ] as const
  ) {
    const r = refusal(op, args);
    assertEquals([op, r.code, r.field], [op, "bad_identity", "identity"]);
    assert(r.message.startsWith("The identity must be 3 to 64 characters"), r.message);
  }
});

Deno.test("a consent phrase over 64 characters is bad_phrase_format", () => {
  const r = refusal("consent", { registration, phrase: "x".repeat(65) });
  assertEquals([r.code, r.field], ["bad_phrase_format", "phrase"]);
});

Deno.test("protocol fields are bad_request naming only the field's key", () => {
  const r = refusal("login.finish", { loginId: "x", finishLoginRequest: "!!" });
  assertEquals([r.code, r.field, r.message], [
    "bad_request",
    "finishLoginRequest",
    "The request is malformed (field finishLoginRequest).",
  ]);
  const extra = refusal("session.close", { surprise: 1 });
  assertEquals(
    [extra.code, extra.message],
    ["bad_request", "The request is malformed (unexpected field surprise)."],
  );
});
