/**
 * The bank in process. Its refusals for everything it can decide before asking the
 * directory: bad bodies, envelopes that do not open, instructions that are not
 * canonical, for another bank, out of date or in another currency — each a 4xx with
 * its code, never a 500 — and `503 directory_unavailable` when the directory cannot be
 * reached. Then, against a directory of a test CA served in process: the signed receipt,
 * and a payment executed once per idempotency key (a repeat gets the original receipt,
 * `duplicate_payment`). The whole path with the real directory is
 * tests/e2e/lifecycle_test.ts and tests/integration/lifecycle_test.ts.
 */
import { assertEquals, assertOk } from "../../tests/fixtures/assert.ts";
import { makeTestCa, x509 } from "../../tests/fixtures/test_ca.ts";
import { b64uDecode, b64uEncode, fromUtf8, sha256, toHex } from "../../protocol/mod.ts";
import { parseCertificate, pemDecode } from "../../protocol/mod.ts";
import { randomBytes, utf8 } from "../../protocol/mod.ts";
import {
  type DebitInstruction,
  deriveHostKeys,
  formatDebitInstruction,
  type HostAnswer,
  hostKeyLabel,
  openHost,
  parseReceipt,
  sealHost,
  SIGNED_IN_HEADER,
} from "../../protocol/mod.ts";
import { createHostApp } from "./app.ts";
import { loadHostKeys } from "./keys.ts";
import { Ledger } from "./ledger.ts";

const dataDir = await Deno.makeTempDir({ prefix: "roamsign-bank-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dataDir, { recursive: true }));
const keys = await loadHostKeys(dataDir, "bank");
const ledger = await Ledger.open(`${dataDir}/host-bank/ledger.json`, {
  currency: "GBP",
  openingBalance: 100_000,
});
const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const nowhere = `http://127.0.0.1:${(closed.addr as Deno.NetAddr).port}`;
closed.close();
const app = createHostApp({ name: "bank", keys, ledger, directoryUrl: nowhere });
const signer = await crypto.subtle.generateKey(
  {
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-256",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  },
  false,
  ["sign"],
) as CryptoKeyPair;

/** Seals an instruction for the bank with WebCrypto's RSA-OAEP (the applet uses wasm-crypto). */
async function envelope(text: string, host = "bank", label = hostKeyLabel("bank")) {
  const spki = parseCertificate(pemDecode(keys.confidentialityCert)).spki;
  const pub = await crypto.subtle.importKey(
    "spki",
    spki as BufferSource,
    { name: "RSA-OAEP", hash: "SHA-256" },
    false,
    ["encrypt"],
  );
  const kh = randomBytes(32);
  const key = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "RSA-OAEP", label: label as BufferSource },
      pub,
      kh as BufferSource,
    ),
  );
  const aes = await deriveHostKeys(kh, host);
  const message = utf8(text);
  const signature = new Uint8Array(
    await crypto.subtle.sign("RSASSA-PKCS1-v1_5", signer.privateKey, message as BufferSource),
  );
  const inner = {
    v: 1,
    message: b64uEncode(message),
    signature: b64uEncode(signature),
    alg: "RSASSA-PKCS1-v1_5-SHA256",
  };
  const sealed = await sealHost(aes.c2h, "c2h", host, utf8(JSON.stringify(inner)));
  return Object.defineProperty({ key: b64uEncode(key), ...sealed }, "h2c", { value: aes.h2c }) as
    & { key: string; iv: string; ct: string }
    & { readonly h2c: CryptoKey };
}

function instruction(over: Partial<DebitInstruction> = {}): string {
  return formatDebitInstruction({
    host: "bank",
    messageId: crypto.randomUUID(),
    idempotencyKey: b64uEncode(randomBytes(16)),
    from: "alice",
    to: "20-00-00 12345678",
    amount: "1.00",
    currency: "GBP",
    reference: "",
    date: new Date().toISOString(),
    ...over,
  });
}

async function post(body: string, type = "application/json") {
  const res = await app.request("/v1/messages", {
    method: "POST",
    headers: { "content-type": type },
    body,
  });
  const j = await res.json();
  return [res.status, j.error?.code] as const;
}

Deno.test("GET /v1/keys serves PUB(i,h), PUB(c,h) and the currency; the private keys are 0600", async () => {
  const res = await app.request("/v1/keys");
  const j = await res.json();
  assertEquals(j.name, "bank");
  assertEquals(j.currency, "GBP");
  assertOk(j.integrityCert.includes("BEGIN CERTIFICATE"));
  for (const f of ["integrity-key.pem", "confidentiality-key.pem"]) {
    assertEquals(((await Deno.stat(`${dataDir}/host-bank/${f}`)).mode ?? 0) & 0o777, 0o600);
  }
});

Deno.test("bad bodies are 4xx with stable codes", async () => {
  assertEquals(await post("{"), [400, "bad_json"]);
  assertEquals(await post("{}", "text/plain"), [415, "unsupported_media_type"]);
  assertEquals(await post("null"), [400, "bad_request"]);
  assertEquals(await post(JSON.stringify({ key: "a", iv: "b", ct: "c", x: 1 })), [
    400,
    "bad_request",
  ]);
  assertEquals(await post(JSON.stringify({ key: "AAAA", iv: "AAAA", ct: "AAAA" })), [
    400,
    "bad_envelope",
  ]);
  assertEquals(await post("x".repeat(300 * 1024)), [413, "body_too_large"]);
});

Deno.test("an envelope for another bank's label, or a tampered one, does not open", async () => {
  const other = await envelope(instruction(), "bank", hostKeyLabel("shop"));
  assertEquals(await post(JSON.stringify(other)), [400, "bad_envelope"]);
  const sealedForShop = await envelope(instruction(), "shop");
  assertEquals(await post(JSON.stringify(sealedForShop)), [400, "bad_envelope"]);
  const good = await envelope(instruction());
  const ct = good.ct.slice(0, -2) + (good.ct.endsWith("AA") ? "BA" : "AA");
  assertEquals(await post(JSON.stringify({ ...good, ct })), [400, "bad_envelope"]);
});

Deno.test("instructions that are not canonical, for another bank, or out of date are refused", async () => {
  const text = instruction();
  assertEquals(await post(JSON.stringify(await envelope(text.replace("\n", "\r\n")))), [
    400,
    "bad_instruction",
  ]);
  assertEquals(await post(JSON.stringify(await envelope(instruction({ host: "shop" })))), [
    400,
    "wrong_host",
  ]);
  const old = new Date(Date.now() - 25 * 3_600_000).toISOString();
  assertEquals(await post(JSON.stringify(await envelope(instruction({ date: old })))), [
    409,
    "stale_instruction",
  ]);
  const ahead = new Date(Date.now() + 10 * 60_000).toISOString();
  assertEquals(await post(JSON.stringify(await envelope(instruction({ date: ahead })))), [
    409,
    "stale_instruction",
  ]);
});

Deno.test("another currency is refused as wrong_currency, before the directory is asked", async () => {
  const before = await Deno.readFile(`${dataDir}/host-bank/ledger.json`);
  // The directory is unreachable: a 503 would mean the bank asked it first.
  assertEquals(await post(JSON.stringify(await envelope(instruction({ currency: "EUR" })))), [
    409,
    "wrong_currency",
  ]);
  assertEquals(await Deno.readFile(`${dataDir}/host-bank/ledger.json`), before);
});

Deno.test("a well-formed message while the directory is unreachable is 503 and changes nothing", async () => {
  const before = await Deno.readFile(`${dataDir}/host-bank/ledger.json`);
  assertEquals(await post(JSON.stringify(await envelope(instruction()))), [
    503,
    "directory_unavailable",
  ]);
  assertEquals(await Deno.readFile(`${dataDir}/host-bank/ledger.json`), before);
});

// ---- paying, against a directory of a test CA ---------------------------------------------

const ca = await makeTestCa();
const signerSpki = new Uint8Array(await crypto.subtle.exportKey("spki", signer.publicKey));
const signerCert = await ca.issue(signerSpki, "alice", {
  keyUsage: x509.KeyUsageFlags.digitalSignature,
});
const crl = await x509.X509CrlGenerator.create({
  issuer: ca.cert.subject,
  thisUpdate: new Date(Date.now() - 60_000),
  nextUpdate: new Date(Date.now() + 3_600_000),
  signingAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  signingKey: ca.keys.privateKey,
  entries: [],
});
/** The directory's three answers the bank asks for (examples/verify/mod.ts). */
const directory: typeof fetch = (input) => {
  const path = new URL(String(input)).pathname;
  if (path === "/directory/alice/history") {
    const c = new x509.X509Certificate(signerCert);
    return Promise.resolve(Response.json({
      certificates: [{
        serial: c.serialNumber,
        status: "active",
        notBefore: c.notBefore.toISOString(),
        notAfter: c.notAfter.toISOString(),
        issuedAt: c.notBefore.toISOString(),
        statusChangedAt: null,
        certificate: signerCert,
      }],
    }));
  }
  if (path === "/crl.pem") {
    const pem = crl.toString("pem").replace(/-----(BEGIN|END) CRL-----/g, "-----$1 X509 CRL-----");
    return Promise.resolve(new Response(pem));
  }
  return Promise.resolve(Response.json({ error: { code: "not_found" } }, { status: 404 }));
};
const payingLedger = `${dataDir}/host-bank/paying.json`;
const paying = createHostApp({
  name: "bank",
  keys,
  ledger: await Ledger.open(payingLedger, { currency: "GBP", openingBalance: 100_000 }),
  directoryUrl: "http://directory.test",
  caPem: ca.pem,
  fetch: directory,
});

/** Sends an instruction as its signer, signed in; the status and the opened answer. */
async function pay(text: string): Promise<{ status: number; answer?: HostAnswer; code?: string }> {
  const env = await envelope(text);
  const res = await paying.request("/v1/messages", {
    method: "POST",
    headers: { "content-type": "application/json", [SIGNED_IN_HEADER]: "alice" },
    body: JSON.stringify(env),
  });
  const body = await res.json();
  if (!res.ok) return { status: res.status, code: body.error?.code };
  const answer = JSON.parse(fromUtf8(await openHost(env.h2c, "h2c", "bank", body)));
  return { status: res.status, answer };
}

/** True when PUB(i,h) (from its certificate) signed `text`. */
async function bankSigned(text: string, signature: string): Promise<boolean> {
  const spki = parseCertificate(pemDecode(keys.integrityCert)).spki;
  const pub = await crypto.subtle.importKey(
    "spki",
    spki as BufferSource,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
  return await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    pub,
    b64uDecode(signature) as BufferSource,
    utf8(text) as BufferSource,
  );
}

Deno.test("a payment's receipt is signed by PUB(i,h) over its canonical text, for this message", async () => {
  const text = instruction({ amount: "12.50", reference: "receipt test" });
  const r = await pay(text);
  assertEquals(r.status, 200);
  assertEquals(r.answer!.code, undefined);
  assertOk(await bankSigned(r.answer!.receipt, r.answer!.signature), "signed by PUB(i,h)");
  assertOk(!(await bankSigned(r.answer!.receipt + " ", r.answer!.signature)), "control");
  const receipt = parseReceipt(r.answer!.receipt); // canonical, or it throws
  assertEquals(receipt.messageSha256, toHex(await sha256(utf8(text))));
  assertEquals(receipt.debit, {
    to: "20-00-00 12345678",
    amount: "12.50",
    currency: "GBP",
    reference: "receipt test",
  });
});

Deno.test("the same payment sent twice is paid once: the repeat gets the original receipt as duplicate_payment", async () => {
  const idempotencyKey = b64uEncode(randomBytes(16));
  const payment = { idempotencyKey, amount: "40.00", reference: "twice" };
  const first = await pay(instruction(payment));
  assertEquals(first.status, 200);
  const paidOnce = await Deno.readFile(payingLedger);
  // Signed anew: another message id, another date, the same form's key.
  const again = await pay(instruction(payment));
  assertEquals(again.status, 200);
  assertEquals(again.answer!.code, "duplicate_payment");
  assertEquals(again.answer!.receipt, first.answer!.receipt); // the original receipt …
  assertEquals(again.answer!.signature, first.answer!.signature); // … as the bank signed it
  assertEquals(await Deno.readFile(payingLedger), paidOnce); // nothing paid, nothing written
  const state = JSON.parse(fromUtf8(paidOnce));
  assertEquals(
    state.entries.filter((e: { idempotencyKey?: string }) => e.idempotencyKey === idempotencyKey)
      .length,
    1,
  );
  // Many at once (a double click, a retry racing the first answer): still paid once.
  const key2 = b64uEncode(randomBytes(16));
  const racing = await Promise.all(
    Array.from({ length: 4 }, () => pay(instruction({ ...payment, idempotencyKey: key2 }))),
  );
  assertEquals(racing.map((r) => r.status), [200, 200, 200, 200]);
  assertEquals(racing.filter((r) => r.answer!.code === undefined).length, 1);
  const after = JSON.parse(await Deno.readTextFile(payingLedger));
  assertEquals(after.accounts.alice, state.accounts.alice - 4_000);
});

Deno.test("one idempotency key for another payment is idempotency_key_reused; nothing changes", async () => {
  const idempotencyKey = b64uEncode(randomBytes(16));
  assertEquals((await pay(instruction({ idempotencyKey, amount: "3.00" }))).status, 200);
  const before = await Deno.readFile(payingLedger);
  assertEquals(await pay(instruction({ idempotencyKey, amount: "4.00" })), {
    status: 409,
    code: "idempotency_key_reused",
  });
  assertEquals(await pay(instruction({ idempotencyKey, amount: "3.00", to: "other" })), {
    status: 409,
    code: "idempotency_key_reused",
  });
  assertEquals(await Deno.readFile(payingLedger), before);
});
