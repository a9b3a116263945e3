/**
 * Differential tests against independent implementations: WebCrypto (Deno's,
 * a separate code base) and the `openssl` CLI.
 */
import { assert, assertEquals } from "./test_assert.ts";
import {
  hex,
  openssl,
  opensslOk,
  pem,
  randomBytes,
  randomInt,
  slowTest,
  tempDir,
  webCryptoKey,
} from "./test_util.ts";
import {
  decryptOaep,
  encryptOaep,
  generateRsaKey,
  type HashName,
  importPrivateKeyPkcs8,
  signPkcs1v15,
  signPss,
  verifyPkcs1v15,
  verifyPss,
} from "./mod.ts";

const HASHES: HashName[] = ["SHA-256", "SHA-1"];
type Buf = Uint8Array<ArrayBuffer>;

function randomMessage(): Uint8Array {
  return randomBytes(randomInt(0, Math.random() < 0.8 ? 200 : 5000));
}

Deno.test("PKCS#1 v1.5 signatures equal WebCrypto's for random keys and messages", async () => {
  for (const hash of HASHES) {
    for (let k = 0; k < 2; k++) {
      const web = await webCryptoKey("RSASSA-PKCS1-v1_5", hash);
      const key = importPrivateKeyPkcs8(web.pkcs8);
      for (let i = 0; i < 4; i++) {
        const msg = randomMessage();
        const ours = signPkcs1v15(key, hash, msg);
        const theirs = new Uint8Array(
          await crypto.subtle.sign("RSASSA-PKCS1-v1_5", web.pair.privateKey, msg as Buf),
        );
        assertEquals(hex(ours), hex(theirs), `${hash} key ${k} message ${i}`);
        assert(verifyPkcs1v15(key.publicKey, hash, msg, theirs));
      }
      key.destroy();
    }
  }
});

Deno.test("WebCrypto verifies our PSS signatures and we verify its, for several salt lengths", async () => {
  for (const hash of HASHES) {
    const web = await webCryptoKey("RSA-PSS", hash);
    const key = importPrivateKeyPkcs8(web.pkcs8);
    for (const saltLength of [0, 20, 32, 64]) {
      const msg = randomMessage();
      const ours = signPss(key, hash, msg, saltLength);
      assert(
        await crypto.subtle.verify(
          { name: "RSA-PSS", saltLength },
          web.pair.publicKey,
          ours as Buf,
          msg as Buf,
        ),
        `WebCrypto rejects our ${hash} PSS, salt ${saltLength}`,
      );
      const theirs = new Uint8Array(
        await crypto.subtle.sign({ name: "RSA-PSS", saltLength }, web.pair.privateKey, msg as Buf),
      );
      assert(
        verifyPss(key.publicKey, hash, msg, theirs, saltLength),
        `we reject ${hash} PSS, salt ${saltLength}`,
      );
      assert(
        !verifyPss(key.publicKey, hash, msg, theirs, saltLength + 1),
        "salt length must matter",
      );
    }
    key.destroy();
  }
});

Deno.test("WebCrypto decrypts our OAEP ciphertexts and we decrypt its, with and without a label", async () => {
  for (const hash of HASHES) {
    const web = await webCryptoKey("RSA-OAEP", hash);
    const key = importPrivateKeyPkcs8(web.pkcs8);
    const hLen = hash === "SHA-256" ? 32 : 20;
    for (const label of [new Uint8Array(0), randomBytes(randomInt(1, 40))]) {
      for (const len of [0, 1, 100, 256 - 2 * hLen - 2]) {
        const msg = randomBytes(len);
        const params = label.length
          ? { name: "RSA-OAEP", label: label as Buf }
          : { name: "RSA-OAEP" };
        const ours = encryptOaep(key.publicKey, hash, msg, label);
        const dec = new Uint8Array(
          await crypto.subtle.decrypt(params, web.pair.privateKey, ours as Buf),
        );
        assertEquals(hex(dec), hex(msg), `WebCrypto decrypts ours (${hash}, ${len} bytes)`);
        const theirs = new Uint8Array(
          await crypto.subtle.encrypt(params, web.pair.publicKey, msg as Buf),
        );
        assertEquals(
          hex(decryptOaep(key, hash, theirs, label)),
          hex(msg),
          `we decrypt WebCrypto's (${hash})`,
        );
      }
    }
    key.destroy();
  }
});

Deno.test("our generated keys import into WebCrypto and work", async () => {
  const progress: number[] = [];
  const key = generateRsaKey(2048, { onProgress: (f) => progress.push(f) });
  assertEquals(key.bits, 2048);
  assertEquals(progress[progress.length - 1], 1);
  assert(
    progress.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= progress[i - 1])),
    "progress is monotonic",
  );
  const pkcs8 = key.exportPkcs8();
  const priv = await crypto.subtle.importKey(
    "pkcs8",
    pkcs8 as Buf,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  pkcs8.fill(0);
  const pub = await crypto.subtle.importKey(
    "spki",
    key.publicKey.exportSpki() as Buf,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const msg = randomMessage();
  const ours = signPkcs1v15(key, "SHA-256", msg);
  assert(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", pub, ours as Buf, msg as Buf));
  const theirs = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", priv, msg as Buf));
  assertEquals(hex(theirs), hex(ours));
  const oaepPub = await crypto.subtle.importKey(
    "spki",
    key.publicKey.exportSpki() as Buf,
    { name: "RSA-OAEP", hash: "SHA-256" },
    false,
    ["encrypt"],
  );
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "RSA-OAEP" }, oaepPub, msg.subarray(0, 100) as Buf),
  );
  assertEquals(hex(decryptOaep(key, "SHA-256", ct)), hex(msg.subarray(0, 100)));
  key.destroy();
});

Deno.test("OpenSSL agrees: PKCS#1 v1.5 equality, PSS and OAEP both ways, with our generated key", async () => {
  const dir = await tempDir();
  const f = (name: string) => `${dir.path}/${name}`;
  try {
    const key = generateRsaKey(2048);
    const pkcs8 = key.exportPkcs8();
    await Deno.writeTextFile(f("key.pem"), pem("PRIVATE KEY", pkcs8), { mode: 0o600 });
    pkcs8.fill(0);
    await Deno.writeTextFile(f("pub.pem"), pem("PUBLIC KEY", key.publicKey.exportSpki()));
    for (const hash of HASHES) {
      const md = hash === "SHA-256" ? "sha256" : "sha1";
      const msg = randomMessage();
      await Deno.writeFile(f("msg"), msg);
      // PKCS#1 v1.5: identical signatures
      const theirs = await openssl(["dgst", `-${md}`, "-sign", f("key.pem"), f("msg")]);
      assertEquals(hex(signPkcs1v15(key, hash, msg)), hex(theirs), `${hash} PKCS#1 v1.5`);
      // PSS: ours verified by OpenSSL, OpenSSL's verified by us
      const pss = signPss(key, hash, msg);
      await Deno.writeFile(f("sig"), pss);
      const pssOpts = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"];
      assert(
        await opensslOk([
          "dgst",
          `-${md}`,
          ...pssOpts,
          "-verify",
          f("pub.pem"),
          "-signature",
          f("sig"),
          f("msg"),
        ]),
        `OpenSSL rejects our ${hash} PSS`,
      );
      const theirPss = await openssl([
        "dgst",
        `-${md}`,
        ...pssOpts,
        "-sign",
        f("key.pem"),
        f("msg"),
      ]);
      assert(verifyPss(key.publicKey, hash, msg, theirPss), `we reject OpenSSL's ${hash} PSS`);
      // OAEP with a label, both ways
      const label = randomBytes(16);
      const pt = randomBytes(64);
      const oaepOpts = [
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        `rsa_oaep_md:${md}`,
        "-pkeyopt",
        `rsa_mgf1_md:${md}`,
        "-pkeyopt",
        `rsa_oaep_label:${hex(label)}`,
      ];
      await Deno.writeFile(f("ct"), encryptOaep(key.publicKey, hash, pt, label));
      const dec = await openssl([
        "pkeyutl",
        "-decrypt",
        "-inkey",
        f("key.pem"),
        ...oaepOpts,
        "-in",
        f("ct"),
      ]);
      assertEquals(hex(dec), hex(pt), `OpenSSL decrypts our ${hash} OAEP`);
      await Deno.writeFile(f("pt"), pt);
      const ct = await openssl([
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        f("pub.pem"),
        ...oaepOpts,
        "-in",
        f("pt"),
      ]);
      assertEquals(
        hex(decryptOaep(key, hash, ct, label)),
        hex(pt),
        `we decrypt OpenSSL's ${hash} OAEP`,
      );
    }
    key.destroy();
  } finally {
    await dir.cleanup();
  }
});

Deno.test("OpenSSL-generated keys (e = 65537 and e = 3, 2048 and 3072 bits) sign identically", async () => {
  const dir = await tempDir();
  try {
    for (const [bits, e] of [[2048, 65537], [2048, 3], [3072, 65537]]) {
      const keyPem = await openssl([
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        `rsa_keygen_bits:${bits}`,
        "-pkeyopt",
        `rsa_keygen_pubexp:${e}`,
      ]);
      await Deno.writeFile(`${dir.path}/k.pem`, keyPem, { mode: 0o600 });
      const der = await openssl([
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        `${dir.path}/k.pem`,
        "-outform",
        "DER",
      ]);
      const key = importPrivateKeyPkcs8(der);
      const msg = randomMessage();
      await Deno.writeFile(`${dir.path}/msg`, msg);
      const theirs = await openssl([
        "dgst",
        "-sha256",
        "-sign",
        `${dir.path}/k.pem`,
        `${dir.path}/msg`,
      ]);
      assertEquals(hex(signPkcs1v15(key, "SHA-256", msg)), hex(theirs), `${bits} bits, e = ${e}`);
      key.destroy();
    }
  } finally {
    await dir.cleanup();
  }
});

slowTest("PKCS#1 v1.5 equals WebCrypto for 3072- and 4096-bit keys and many messages", async () => {
  for (const bits of [3072, 4096]) {
    const web = await webCryptoKey("RSASSA-PKCS1-v1_5", "SHA-256", bits);
    const key = importPrivateKeyPkcs8(web.pkcs8);
    for (let i = 0; i < 20; i++) {
      const msg = randomMessage();
      const theirs = new Uint8Array(
        await crypto.subtle.sign("RSASSA-PKCS1-v1_5", web.pair.privateKey, msg as Buf),
      );
      assertEquals(
        hex(signPkcs1v15(key, "SHA-256", msg)),
        hex(theirs),
        `${bits} bits, message ${i}`,
      );
    }
    key.destroy();
  }
});
