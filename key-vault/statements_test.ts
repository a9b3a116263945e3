import { assertEquals, assertOk, assertRejects } from "../tests/fixtures/assert.ts";
import {
  b64uDecode,
  b64uEncode,
  type VaultStatement,
  vaultStatementBytes,
} from "../protocol/mod.ts";
import { createStatementKey, loadStatementKey, signStatement } from "./statements.ts";

const _ALG = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

const statement: VaultStatement = {
  kind: "passkey.login.start",
  identity: "",
  challengeId: "c".repeat(22),
  challenge: "x".repeat(43),
  rpId: "localhost",
  allowCredentials: [],
  binding: "b".repeat(43),
};

Deno.test("the statement key signs in wasm-crypto, not in Deno's WebCrypto, the same bytes", async () => {
  const made = await createStatementKey();
  const webcrypto = await crypto.subtle.importKey(
    "pkcs8",
    made.pkcs8 as Uint8Array<ArrayBuffer>,
    _ALG,
    false,
    ["sign"],
  );
  const key = await loadStatementKey(made.pkcs8, made.spki);
  made.pkcs8.fill(0);
  // Anyone can have this key sign (register.start, apply, passkey.login.start): its
  // private operation must not run in Deno's RSA, which is not constant time (statements.ts).
  assertOk(!(key.privateKey instanceof CryptoKey), "the private key is a WebCrypto CryptoKey");
  const ours = b64uDecode(await signStatement(key, statement));
  const bytes = vaultStatementBytes(statement) as Uint8Array<ArrayBuffer>;
  const theirs = new Uint8Array(await crypto.subtle.sign(_ALG, webcrypto, bytes));
  assertEquals(b64uEncode(ours), b64uEncode(theirs)); // PKCS#1 v1.5 is deterministic
  const pub = await crypto.subtle.importKey(
    "spki",
    b64uDecode(key.spki) as Uint8Array<ArrayBuffer>,
    _ALG,
    false,
    ["verify"],
  );
  assertOk(await crypto.subtle.verify(_ALG, pub, ours as Uint8Array<ArrayBuffer>, bytes));
  key.privateKey.destroy();
});

Deno.test("loadStatementKey() refuses a public key that is not the private key's own", async () => {
  const a = await createStatementKey();
  const b = await createStatementKey();
  const err = await assertRejects(() => loadStatementKey(a.pkcs8, b.spki));
  assertOk(/not its own/.test(err.message), err.message);
  a.pkcs8.fill(0);
  b.pkcs8.fill(0);
});
