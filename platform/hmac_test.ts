import { ApiError } from "./errors.ts";
import {
  HEADER,
  importHmacKey,
  MAX_SKEW_MS,
  readAuthHeaders,
  signingString,
  signRequest,
  verifySignature,
} from "./hmac.ts";
import { assert } from "../tests/fixtures/assert.ts";

async function code(f: () => unknown): Promise<string> {
  try {
    await f();
    return "ok";
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
}

const raw = crypto.getRandomValues(new Uint8Array(32));
const key = await importHmacKey(raw);
const body = new TextEncoder().encode('{"identity":"alice"}');

Deno.test("signingString() is method, path, ts, nonce, client and hex SHA-256 of the body, by newlines", async () => {
  const s = new TextDecoder().decode(
    await signingString("POST", "/v1/x", "1", "n", "c", new Uint8Array(0)),
  );
  assert(
    s === "POST\n/v1/x\n1\nn\nc\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    s,
  );
});

Deno.test("signRequest() matches an independent HMAC-SHA256 over the signing string", async () => {
  const headers = await signRequest({
    key,
    keyId: "web",
    method: "POST",
    path: "/v1/x",
    body,
    client: "192.0.2.1",
    ts: 1700000000000,
    nonce: "AAAAAAAAAAAAAAAAAAAAAA",
  });
  const { createHmac } = await import("node:crypto");
  const expected = createHmac("sha256", raw)
    .update(
      await signingString(
        "POST",
        "/v1/x",
        "1700000000000",
        "AAAAAAAAAAAAAAAAAAAAAA",
        "192.0.2.1",
        body,
      ),
    )
    .digest("base64url");
  assert(headers[HEADER.signature] === expected);
});

Deno.test("verifySignature() accepts its own signature and refuses any changed field", async () => {
  const now = Date.now();
  const headers = await signRequest({
    key,
    keyId: "web",
    method: "POST",
    path: "/v1/x",
    body,
    client: "192.0.2.1",
    ts: now,
  });
  const auth = readAuthHeaders(new Headers(headers), now);
  assert((await code(() => verifySignature(key, auth, "POST", "/v1/x", body))) === "ok");
  assert((await code(() => verifySignature(key, auth, "POST", "/v1/y", body))) === "bad_signature");
  assert(
    (await code(() => verifySignature(key, auth, "POST", "/v1/x", new Uint8Array([1])))) ===
      "bad_signature",
  );
  assert(
    (await code(() =>
      verifySignature(key, { ...auth, client: "192.0.2.2" }, "POST", "/v1/x", body)
    )) === "bad_signature",
  );
  const other = await importHmacKey(crypto.getRandomValues(new Uint8Array(32)));
  assert(
    (await code(() => verifySignature(other, auth, "POST", "/v1/x", body))) === "bad_signature",
  );
});

Deno.test("readAuthHeaders() refuses missing, malformed and stale headers with their codes", async () => {
  const now = Date.now();
  const good = await signRequest({
    key,
    keyId: "web",
    method: "POST",
    path: "/v1/x",
    body,
    ts: now,
  });
  const without = (h: string) => {
    const copy = { ...good };
    delete copy[h];
    return new Headers(copy);
  };
  assert((await code(() => readAuthHeaders(new Headers(), now))) === "unsigned");
  assert((await code(() => readAuthHeaders(without(HEADER.signature), now))) === "bad_auth_header");
  assert(
    (await code(() => readAuthHeaders(new Headers({ ...good, [HEADER.nonce]: "short" }), now))) ===
      "bad_auth_header",
  );
  assert(
    (await code(() => readAuthHeaders(new Headers({ ...good, [HEADER.ts]: "12e9" }), now))) ===
      "bad_auth_header",
  );
  assert(
    (await code(() => readAuthHeaders(new Headers({ ...good, [HEADER.signature]: "AA" }), now))) ===
      "bad_auth_header",
  );
  assert(
    (await code(() => readAuthHeaders(new Headers(good), now + MAX_SKEW_MS + 1))) ===
      "stale_request",
  );
  assert(
    (await code(() => readAuthHeaders(new Headers(good), now - MAX_SKEW_MS - 1))) ===
      "stale_request",
  );
  assert((await code(() => readAuthHeaders(new Headers(good), now + MAX_SKEW_MS))) === "ok");
});

Deno.test("HmacKey.mac() is RFC 2104 HMAC-SHA256: equals WebCrypto for keys of 32, 64, 65 and 100 bytes", async () => {
  for (const n of [32, 64, 65, 100]) {
    const k = crypto.getRandomValues(new Uint8Array(n));
    const imported = await importHmacKey(k);
    const ours = imported.mac(body);
    const ref = await crypto.subtle.importKey(
      "raw",
      k,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const theirs = new Uint8Array(await crypto.subtle.sign("HMAC", ref, body));
    assert(ours.length === 32 && ours.every((b, i) => b === theirs[i]), `key of ${n} bytes`);
    // The same key object gives the same MAC again (the precomputed states are copied).
    assert(imported.mac(body).every((b, i) => b === ours[i]));
  }
  assert(JSON.stringify(key) === "{}", "no key material when serialised");
});
