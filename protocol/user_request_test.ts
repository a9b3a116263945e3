import { canonicalJson, signedPayload, userRequestBytes } from "./user_request.ts";
import { assert } from "../tests/fixtures/assert.ts";

Deno.test("canonicalJson() sorts keys at every depth and writes no whitespace", () => {
  const a = canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: "é" } });
  assert(a === '{"a":{"c":"é","d":[3,{"y":null,"z":true}]},"b":1}', a);
  assert(canonicalJson({ x: 1, y: 2 }) === canonicalJson({ y: 2, x: 1 }));
});

Deno.test("canonicalJson() refuses values JSON cannot carry", () => {
  for (const v of [NaN, Infinity, () => 1, 1n]) {
    let threw = false;
    try {
      canonicalJson({ v });
    } catch {
      threw = true;
    }
    assert(threw, String(v));
  }
});

Deno.test("userRequestBytes() excludes only the signature field and binds op, identity and nonce", async () => {
  const body = { identity: "alice", nonce: "n1", signature: "sig" };
  assert(!("signature" in signedPayload("revoke", body)));
  const a = new TextDecoder().decode(await userRequestBytes("revoke", "alice", "n1", body));
  const b = new TextDecoder().decode(
    await userRequestBytes("revoke", "alice", "n1", { ...body, signature: "other" }),
  );
  assert(a === b);
  const parsed = JSON.parse(a);
  assert(
    parsed[0] === "roamsign/request/v1" && parsed[1] === "revoke" && parsed[2] === "alice" &&
      parsed[3] === "n1",
  );
  assert(/^[0-9a-f]{64}$/.test(parsed[4]));
  const c = new TextDecoder().decode(await userRequestBytes("reregister", "alice", "n1", body));
  assert(a !== c);
});
