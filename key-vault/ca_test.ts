import { createCa, issueCertificate, loadCa, randomSerial, signCrl } from "./ca.ts";
import * as x509 from "@peculiar/x509";
import { assert } from "../tests/fixtures/assert.ts";

async function openssl(
  args: string[],
  files: Record<string, string>,
): Promise<{ ok: boolean; out: string }> {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { ok: out.success, out: text };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const userKeys = await crypto.subtle.generateKey(
  {
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-256",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  },
  true,
  ["sign", "verify"],
) as CryptoKeyPair;
const userSpki = new Uint8Array(await crypto.subtle.exportKey("spki", userKeys.publicKey));
const made = await createCa();
const ca = await loadCa(made.pkcs8, made.pem);

Deno.test("randomSerial() is 16 positive bytes and differs each time", () => {
  const a = randomSerial();
  assert(/^[0-7][0-9a-f]{31}$/.test(a) && a !== randomSerial(), a);
});

Deno.test("issueCertificate() makes a user certificate that openssl verifies against the CA", async () => {
  const issued = await issueCertificate(ca, userSpki, "user-signing", "alice", 365);
  const verify = await openssl(["verify", "-CAfile", "ca.pem", "user.pem"], {
    "ca.pem": made.pem,
    "user.pem": issued.pem,
  });
  assert(verify.ok, verify.out);
  const text = await openssl(["x509", "-in", "user.pem", "-noout", "-text"], {
    "user.pem": issued.pem,
  });
  assert(/Subject: CN\s?=\s?alice/.test(text.out), text.out);
  assert(/Key Usage: critical\s+Digital Signature, Non Repudiation/.test(text.out), text.out);
  assert(/CA:FALSE/.test(text.out));
  assert(text.out.toLowerCase().includes(issued.serial.replace(/(..)(?!$)/g, "$1:")), "serial");
  const cert = new x509.X509Certificate(issued.pem);
  assert(cert.serialNumber === issued.serial);
});

Deno.test("signCrl() lists revoked serials so openssl -crl_check refuses them", async () => {
  const issued = await issueCertificate(ca, userSpki, "user-signing", "bob", 365);
  const crl = await signCrl(ca, [{
    serial: issued.serial,
    revokedAt: new Date(),
    reason: "revoked",
  }]);
  const check = await openssl([
    "verify",
    "-crl_check",
    "-CAfile",
    "ca.pem",
    "-CRLfile",
    "crl.pem",
    "user.pem",
  ], {
    "ca.pem": made.pem,
    "crl.pem": crl,
    "user.pem": issued.pem,
  });
  assert(!check.ok && /revoked/i.test(check.out), check.out);
});

Deno.test("signCrl() carries the CRL number and the authority key identifier", async () => {
  const crl = await signCrl(ca, [], 24, new Date(), 41);
  const text = await openssl(["crl", "-in", "crl.pem", "-noout", "-text"], { "crl.pem": crl });
  assert(text.ok, text.out);
  assert(/X509v3 CRL Number:\s+41/.test(text.out), text.out);
  assert(/X509v3 Authority Key Identifier/.test(text.out), text.out);
  const check = await openssl(["crl", "-in", "crl.pem", "-noout", "-CAfile", "ca.pem"], {
    "crl.pem": crl,
    "ca.pem": made.pem,
  });
  assert(check.ok && /verify OK/i.test(check.out), check.out);
});
