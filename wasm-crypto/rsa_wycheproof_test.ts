/**
 * Wycheproof test vectors (../shared/vectors/wycheproof).
 *
 * Policy for `acceptable` (see docs/wasm-crypto.md): verification is strict —
 * an `acceptable` signature (here: DigestInfo without the NULL parameters,
 * "MissingNull") is rejected. Signature generation reproduces `acceptable`
 * cases too (SHA-1 "WeakHash" and e = 3 "SmallPublicKey" keys are legal
 * inputs; the signatures are deterministic and must match byte for byte).
 */
import { assert, assertEquals } from "./test_assert.ts";
import { hex, unhex, wycheproof } from "./test_util.ts";
import {
  decryptOaep,
  type HashName,
  importPrivateKeyPkcs8,
  importPublicKeySpki,
  signPkcs1v15,
  verifyPkcs1v15,
  verifyPss,
  WasmCryptoError,
} from "./mod.ts";

interface Case {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig?: string;
  ct?: string;
  label?: string;
  result: "valid" | "invalid" | "acceptable";
}

function hashOf(name: string): HashName | undefined {
  return name === "SHA-256" || name === "SHA-1" ? name : undefined;
}

for (const file of ["rsa_signature_2048_sha256_test.json", "rsa_signature_3072_sha256_test.json"]) {
  Deno.test(`verifyPkcs1v15() passes Wycheproof ${file}`, async () => {
    const data = await wycheproof(file);
    let count = 0;
    for (const group of data.testGroups) {
      const pub = importPublicKeySpki(unhex(group.publicKeyDer));
      const hash = hashOf(group.sha)!;
      assert(hash, `unexpected hash ${group.sha}`);
      for (const t of group.tests as Case[]) {
        const ok = verifyPkcs1v15(pub, hash, unhex(t.msg), unhex(t.sig!));
        // acceptable (MissingNull) is rejected: strict policy
        assertEquals(ok, t.result === "valid", `tcId ${t.tcId} ${t.comment} [${t.flags}]`);
        count++;
      }
    }
    assertEquals(count, data.numberOfTests);
  });
}

for (
  const file of [
    "rsa_pss_2048_sha256_mgf1_32_test.json",
    "rsa_pss_2048_sha256_mgf1_0_test.json",
    "rsa_pss_2048_sha1_mgf1_20_test.json",
  ]
) {
  Deno.test(`verifyPss() passes Wycheproof ${file}`, async () => {
    const data = await wycheproof(file);
    let count = 0;
    for (const group of data.testGroups) {
      const pub = importPublicKeySpki(unhex(group.publicKeyDer));
      const hash = hashOf(group.sha)!;
      assert(hash && group.mgfSha === group.sha && group.mgf === "MGF1", "unexpected parameters");
      for (const t of group.tests as Case[]) {
        const ok = verifyPss(pub, hash, unhex(t.msg), unhex(t.sig!), group.sLen);
        assert(t.result !== "acceptable", `tcId ${t.tcId}: no acceptable cases expected`);
        assertEquals(ok, t.result === "valid", `tcId ${t.tcId} ${t.comment} [${t.flags}]`);
        count++;
      }
    }
    assertEquals(count, data.numberOfTests);
  });
}

for (
  const file of [
    "rsa_oaep_2048_sha256_mgf1sha256_test.json",
    "rsa_oaep_2048_sha1_mgf1sha1_test.json",
  ]
) {
  Deno.test(`decryptOaep() passes Wycheproof ${file}`, async () => {
    const data = await wycheproof(file);
    let count = 0;
    for (const group of data.testGroups) {
      const key = importPrivateKeyPkcs8(unhex(group.privateKeyPkcs8));
      const hash = hashOf(group.sha)!;
      assert(hash && group.mgfSha === group.sha, "unexpected parameters");
      for (const t of group.tests as Case[]) {
        const what = `tcId ${t.tcId} ${t.comment} [${t.flags}]`;
        assert(t.result !== "acceptable", `${what}: no acceptable cases expected`);
        let out: Uint8Array | WasmCryptoError;
        try {
          out = decryptOaep(key, hash, unhex(t.ct!), unhex(t.label!));
        } catch (e) {
          if (!(e instanceof WasmCryptoError)) throw e;
          out = e;
        }
        if (t.result === "valid") {
          assert(out instanceof Uint8Array, `${what}: ${out}`);
          assertEquals(hex(out), t.msg, what);
        } else {
          assert(out instanceof WasmCryptoError, `${what}: decrypted`);
          assertEquals(out.code, "decryption_failed", what);
        }
        count++;
      }
      key.destroy();
    }
    assertEquals(count, data.numberOfTests);
  });
}

Deno.test("signPkcs1v15() reproduces Wycheproof rsa_pkcs1_2048_sig_gen_test.json byte for byte", async () => {
  const data = await wycheproof("rsa_pkcs1_2048_sig_gen_test.json");
  let count = 0;
  const skipped = new Set<string>();
  for (const group of data.testGroups) {
    const hash = hashOf(group.sha);
    if (!hash) {
      skipped.add(group.sha); // SHA-224/384/512 are not offered by this API
      continue;
    }
    const key = importPrivateKeyPkcs8(unhex(group.privateKeyPkcs8));
    for (const t of group.tests as Case[]) {
      assert(t.result !== "invalid", `tcId ${t.tcId}: no invalid cases expected`);
      const sig = signPkcs1v15(key, hash, unhex(t.msg));
      assertEquals(hex(sig), t.sig, `tcId ${t.tcId} ${t.comment}`);
      assert(verifyPkcs1v15(key.publicKey, hash, unhex(t.msg), sig));
      count++;
    }
    key.destroy();
  }
  assertEquals([...skipped].sort(), ["SHA-224", "SHA-384", "SHA-512"]);
  assertEquals(count, 18); // 8 SHA-1, 8 SHA-256, 2 SHA-256 with e = 3
});
