/**
 * The bank's refusals in process, for everything it can decide before asking the
 * directory: bad bodies, envelopes that do not open, instructions that are not
 * canonical, for another bank or out of date — each a 4xx with its code, never a
 * 500 — and `503 directory_unavailable` when the directory cannot be reached. The
 * whole path with the real directory is tests/e2e/lifecycle_test.ts and
 * tests/integration/lifecycle_test.ts.
 */
import { assertEquals, assertOk } from "../../tests/fixtures/assert.ts";
import { b64uEncode } from "../../protocol/mod.ts";
import { parseCertificate, pemDecode } from "../../protocol/mod.ts";
import { randomBytes, utf8 } from "../../protocol/mod.ts";
import {
  type DebitInstruction,
  deriveHostKeys,
  formatDebitInstruction,
  hostKeyLabel,
  sealHost,
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
  return { key: b64uEncode(key), ...sealed };
}

function instruction(over: Partial<DebitInstruction> = {}): string {
  return formatDebitInstruction({
    host: "bank",
    messageId: crypto.randomUUID(),
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

Deno.test("GET /v1/keys serves PUB(i,h) and PUB(c,h); the private keys are 0600", async () => {
  const res = await app.request("/v1/keys");
  const j = await res.json();
  assertEquals(j.name, "bank");
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

Deno.test("a well-formed message while the directory is unreachable is 503 and changes nothing", async () => {
  const before = await Deno.readFile(`${dataDir}/host-bank/ledger.json`);
  assertEquals(await post(JSON.stringify(await envelope(instruction()))), [
    503,
    "directory_unavailable",
  ]);
  assertEquals(await Deno.readFile(`${dataDir}/host-bank/ledger.json`), before);
});
