import { assertEquals, assertRejects, assertThrows } from "../tests/fixtures/assert.ts";
import { randomBytes, utf8 } from "./bytes.ts";
import {
  amountMinor,
  type DebitInstruction,
  deriveHostKeys,
  formatDebitInstruction,
  formatMinor,
  HostProtocolError,
  openHost,
  parseDebitInstruction,
  sealHost,
} from "./host.ts";

const instruction: DebitInstruction = {
  host: "bank",
  messageId: "0f8fad5b-d9cb-469f-a165-70867728950e",
  idempotencyKey: "q83vEjRWeJq83vEjRWeJqw",
  from: "alice",
  to: "20-00-00 12345678",
  amount: "125.00",
  currency: "GBP",
  reference: "rent for March",
  date: "2026-12-01T10:00:00.000Z",
};

Deno.test("formatDebitInstruction() and parseDebitInstruction() round-trip", () => {
  const text = formatDebitInstruction(instruction);
  assertEquals(
    text,
    "roamsign debit instruction v2\nhost: bank\nmessage-id: 0f8fad5b-d9cb-469f-a165-70867728950e\n" +
      "idempotency-key: q83vEjRWeJq83vEjRWeJqw\nfrom: alice\nto: 20-00-00 12345678\namount: 125.00 GBP\nreference: rent for March\n" +
      "date: 2026-12-01T10:00:00.000Z\n",
  );
  assertEquals(parseDebitInstruction(text), instruction);
  const empty = { ...instruction, reference: "" };
  assertEquals(parseDebitInstruction(formatDebitInstruction(empty)), empty);
});

Deno.test("parseDebitInstruction() refuses anything but the canonical text", () => {
  const text = formatDebitInstruction(instruction);
  for (
    const bad of [
      text.replace("\n", "\r\n"), // another line ending
      text.trimEnd(), // no final newline
      text + "extra: 1\n", // an extra line
      text.replace("host: bank\n", "").replace("from: alice\n", "from: alice\nhost: bank\n"),
      text.replace("125.00", "125.0"),
      text.replace("125.00", "0.00"),
      text.replace("GBP", "gbp"),
      text.replace("alice", "Alice"),
      text.replace("4", "1"), // not a UUID v4 any more
      text.replace("rent for March", " rent"), // leading space
      text.replace("idempotency-key: q83vEjRWeJq83vEjRWeJqw\n", ""), // no idempotency key
      text.replace("q83vEjRWeJq83vEjRWeJqw", "short"), // under 16 bytes
      text.replace("q83vEjRWeJq83vEjRWeJqw", "q83vEjRWeJq83vEjRWeJq+"), // not base64url
      text.replace(" v2\n", " v1\n"), // the version before idempotency keys
    ]
  ) {
    assertThrows(() => parseDebitInstruction(bad), HostProtocolError, "bad_instruction");
  }
});

Deno.test("an instruction refuses bidi overrides and zero-width characters (what you see is what you sign)", () => {
  for (const hidden of ["\u202e", "\u200b", "\u2066", "\u0007"]) {
    assertThrows(
      () => formatDebitInstruction({ ...instruction, to: `20-00-00${hidden}12345678` }),
      HostProtocolError,
      "bad_instruction",
    );
    assertThrows(
      () => formatDebitInstruction({ ...instruction, reference: `rent${hidden}` }),
      HostProtocolError,
      "bad_instruction",
    );
  }
});

Deno.test("amountMinor() and formatMinor() convert between text and pence", () => {
  assertEquals(amountMinor("125.00"), 12_500);
  assertEquals(amountMinor("0.07"), 7);
  assertEquals(formatMinor(87_500), "875.00");
  assertEquals(formatMinor(-5), "-0.05");
  assertThrows(() => amountMinor("1e3"), HostProtocolError, "bad_instruction");
  assertThrows(() => amountMinor("01.00"), HostProtocolError, "bad_instruction");
});

Deno.test("sealHost()/openHost(): each direction and host opens only its own", async () => {
  const kh = randomBytes(32);
  const keys = await deriveHostKeys(kh, "bank");
  const sealed = await sealHost(keys.c2h, "c2h", "bank", utf8("hello bank"));
  assertEquals(
    new TextDecoder().decode(await openHost(keys.c2h, "c2h", "bank", sealed)),
    "hello bank",
  );
  await assertRejects(
    () => openHost(keys.h2c, "c2h", "bank", sealed),
    HostProtocolError,
    "bad_envelope",
  );
  await assertRejects(
    () => openHost(keys.c2h, "h2c", "bank", sealed),
    HostProtocolError,
    "bad_envelope",
  );
  await assertRejects(
    () => openHost(keys.c2h, "c2h", "shop", sealed),
    HostProtocolError,
    "bad_envelope",
  );
  const flipped = { ...sealed, ct: (sealed.ct[0] === "A" ? "B" : "A") + sealed.ct.slice(1) };
  await assertRejects(
    () => openHost(keys.c2h, "c2h", "bank", flipped),
    HostProtocolError,
    "bad_envelope",
  );
  const other = await deriveHostKeys(randomBytes(32), "bank");
  await assertRejects(
    () => openHost(other.c2h, "c2h", "bank", sealed),
    HostProtocolError,
    "bad_envelope",
  );
});

Deno.test("deriveHostKeys() refuses a key that is not 32 bytes", async () => {
  await assertRejects(
    () => deriveHostKeys(randomBytes(16), "bank"),
    HostProtocolError,
    "bad_envelope",
  );
});
