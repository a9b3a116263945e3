/**
 * The vault's time-stamping authority through the proxy (docs/documents.md), with real
 * processes (PGlite): the TSA certificate is under the CA with extendedKeyUsage
 * timeStamping, critical; `tsa.timestamp` answers the web server's key and refuses the
 * operator's and a malformed imprint; the channel's `timestamp` needs a signed-in user;
 * and a document signature made by the applet's flow — signed attributes checked and
 * signed with SKu, token from the vault — verifies with `openssl cms -verify` against the
 * CA and its token with `openssl ts -verify`. The flow signs nothing that is not
 * roamsign's signed attributes for this user.
 */
import { assert, assertEquals } from "../fixtures/assert.ts";
import { runTool } from "../fixtures/document_pki.ts";
import { LIGHT_KSF, startStack } from "../../harness/mod.ts";
import { activeUserFromDeno, ready, session, signedIn } from "../e2e/_deno_client.ts";
import { signDocumentAttributes } from "../../applet/mod.ts";
import { b64uDecode, b64uEncode, pemDecode, utf8 } from "../../protocol/mod.ts";
import {
  buildSignedAttributes,
  buildSignedData,
  checkTimeStampToken,
  sha256,
} from "../../documents/mod.ts";

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return undefined;
}

Deno.test({
  name: "[slow] the TSA through the proxy: tokens openssl accepts, for signed-in users only",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await ready();
    const stack = await startStack({ web: true });
    const dir = await Deno.makeTempDir({ prefix: "roamsign-tsa-" });
    try {
      const caPem = await Deno.readTextFile(`${stack.dataDir}/ca.pem`);
      await Deno.writeTextFile(`${dir}/ca.pem`, caPem);

      await t.step(
        "tsa.timestamp through the proxy: web yes, admin no, bad imprint refused",
        async () => {
          const imprint = await sha256(utf8("signature value"));
          const r = await stack.webClient().call(
            "tsa.timestamp",
            { imprint: b64uEncode(imprint) },
            {
              clientAddress: "198.51.100.7",
            },
          ) as { token: string; genTime: string };
          const token = b64uDecode(r.token);
          const check = await checkTimeStampToken(token, utf8("signature value"), pemDecode(caPem));
          assert(check.valid, check.problem);
          await Deno.writeFile(
            `${dir}/tsa.pem`,
            new TextEncoder().encode(
              `-----BEGIN CERTIFICATE-----\n${
                btoa(String.fromCharCode(...check.tsaCertificate!))
              }\n-----END CERTIFICATE-----\n`,
            ),
          );
          const x = await runTool("openssl", ["x509", "-in", `${dir}/tsa.pem`, "-noout", "-text"]);
          assert(/X509v3 Extended Key Usage: critical\s+Time Stamping\s/.test(x.out), x.out);
          assert(/Issuer: CN\s*=\s*roamsign CA/.test(x.out), x.out);
          assertEquals(
            await code(stack.adminClient().call("tsa.timestamp", { imprint: b64uEncode(imprint) })),
            "op_forbidden",
          );
          assertEquals(
            await code(
              stack.webClient().call("tsa.timestamp", { imprint: b64uEncode(new Uint8Array(20)) }),
            ),
            "invalid_request",
          );
        },
      );

      await t.step("the channel's timestamp needs a signed-in user", async () => {
        const anon = await session(stack.webUrl!);
        try {
          assertEquals(
            await code(anon.call("timestamp", { imprint: b64uEncode(new Uint8Array(32)) })),
            "not_signed_in",
          );
        } finally {
          await anon.close();
        }
      });

      await t.step(
        "a document signature by the flow: openssl cms -verify and ts -verify",
        async () => {
          const alice = await activeUserFromDeno(stack, "ts");
          const { session: s, user } = await signedIn(
            stack.webUrl!,
            alice.id,
            alice.pass,
            LIGHT_KSF,
          );
          try {
            const content = utf8("Mandate: Alice authorises the payment of 12.00 GBP.\n");
            const certificate = pemDecode(user.certificate);
            const signedAttributes = await buildSignedAttributes({
              digest: await sha256(content),
              certificate,
              signingTime: new Date(),
            });
            // A bare hash is not signed: the worker must see the attributes.
            assertEquals(
              await code(signDocumentAttributes(s, user, {
                signedAttributes: await sha256(content),
                alg: "pkcs1",
                timestamp: false,
              })),
              "bad_signed_attributes",
            );
            const r = await signDocumentAttributes(s, user, {
              signedAttributes,
              alg: "pkcs1",
              timestamp: true,
            });
            assert(r.timestampToken, "no token");
            const ts = await checkTimeStampToken(r.timestampToken!, r.signature, r.caCertificate);
            assert(ts.valid, ts.problem);
            const cms = buildSignedData({
              signedAttributes,
              signature: r.signature,
              alg: "pkcs1",
              certificate,
              chain: [r.caCertificate],
              timestampToken: r.timestampToken!,
            });
            await Deno.writeFile(`${dir}/doc.txt`, content);
            await Deno.writeFile(`${dir}/doc.p7s`, cms);
            await Deno.writeFile(`${dir}/sig.bin`, r.signature);
            await Deno.writeFile(`${dir}/token.der`, r.timestampToken!);
            const v = await runTool("openssl", [
              "cms",
              "-verify",
              "-binary",
              "-inform",
              "DER",
              "-in",
              `${dir}/doc.p7s`,
              "-content",
              `${dir}/doc.txt`,
              "-CAfile",
              `${dir}/ca.pem`,
              "-out",
              "/dev/null",
            ]);
            assert(v.ok && v.out.includes("Verification successful"), v.out);
            const tv = await runTool("openssl", [
              "ts",
              "-verify",
              "-token_in",
              "-in",
              `${dir}/token.der`,
              "-data",
              `${dir}/sig.bin`,
              "-CAfile",
              `${dir}/ca.pem`,
              "-untrusted",
              `${dir}/tsa.pem`,
            ]);
            assert(tv.ok && tv.out.includes("Verification: OK"), tv.out);
          } finally {
            await s.close();
          }
        },
      );
    } finally {
      await stack.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
