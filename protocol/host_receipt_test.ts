import { assertEquals, assertOk, assertThrows } from "../tests/fixtures/assert.ts";
import { base64 } from "./der.ts";
import { HostProtocolError } from "./host.ts";
import {
  parseReceipt,
  parseSignedReceipt,
  type Receipt,
  receiptText,
  signedReceiptFile,
} from "./host_receipt.ts";

const receipt: Receipt = {
  v: 2,
  host: "bank",
  receiptId: "r1",
  messageId: "0f8fad5b-d9cb-469f-a165-70867728950e",
  idempotencyKey: "q83vEjRWeJq83vEjRWeJqw",
  identity: "alice",
  serial: "01ab",
  messageSha256: "00".repeat(32),
  status: "executed",
  debit: { to: "x", amount: "1.00", currency: "GBP", reference: "" },
  balance: "999.00",
  processedAt: "2026-12-01T10:00:01.000Z",
};

Deno.test("parseReceipt() takes only the canonical text of a well-formed receipt", () => {
  const text = receiptText(receipt);
  assertEquals(parseReceipt(text), receipt);
  assertOk(text.startsWith('{"balance":"999.00"'), "keys sorted");
  assertThrows(() => parseReceipt(JSON.stringify(receipt)), HostProtocolError, "bad_receipt");
  assertThrows(
    () => parseReceipt(receiptText({ ...receipt, status: "refused" as "executed" })),
    HostProtocolError,
    "bad_receipt",
  );
  const { idempotencyKey: _, ...v1 } = { ...receipt, v: 1 };
  assertThrows(() => parseReceipt(receiptText(v1 as never)), HostProtocolError, "bad_receipt");
});

Deno.test("signedReceiptFile() and parseSignedReceipt() round-trip; the signature is plain base64", () => {
  const signature = Uint8Array.from({ length: 384 }, (_, i) => (i * 7 + 251) & 0xff);
  const text = signedReceiptFile({
    receipt: receiptText(receipt),
    signature,
    certificate: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
    spkiSha256: "ab".repeat(32),
  });
  assertOk(text.endsWith("}\n"));
  const parsed = parseSignedReceipt(text);
  assertEquals(parsed.receipt, receipt);
  assertEquals(parsed.signature, signature);
  assertEquals(parsed.file.signature, base64(signature)); // what `base64 -d` reads
  assertEquals(parsed.file.receipt, receiptText(receipt)); // the exact signed text
});

Deno.test("parseSignedReceipt() refuses other files", () => {
  const good = JSON.parse(signedReceiptFile({
    receipt: receiptText(receipt),
    signature: new Uint8Array(256),
    certificate: "C",
    spkiSha256: "ab".repeat(32),
  }));
  for (
    const bad of [
      "not json",
      "null",
      JSON.stringify({ ...good, format: "roamsign/signed-receipt/v0" }),
      JSON.stringify({ ...good, alg: "RSA-PSS-SHA256" }),
      JSON.stringify({ ...good, signature: "not base64!" }),
      JSON.stringify({ ...good, signerSpkiSha256: "AB".repeat(32) }),
      JSON.stringify({ ...good, receipt: JSON.stringify(receipt) }), // not canonical
    ]
  ) {
    assertThrows(() => parseSignedReceipt(bad), HostProtocolError, "bad_receipt");
  }
});
