/**
 * Same-process A/B of builds of the core on RSA-2048 PKCS#1 v1.5 signing in Deno: each
 * file is initialised in turn (zeroizeMemory between), one WebCrypto-generated key,
 * interleaved rounds of 150 signatures, CPU time per signature (min, lower quartile,
 * median of 10 rounds).
 *
 *   deno run -A tools/wasm-crypto/variant_ab.ts wasm-crypto/build/roamsign.wasm wasm-crypto/build/roamsign-relaxed.wasm [more.wasm …]
 *
 * Deno's V8 compiles wasm with explicit bounds checks, so gains read smaller here than in
 * Chromium (`tools/wasm-crypto/quick_bench.ts --wasm FILE`).
 *
 * @module
 */
import process from "node:process";
import * as wc from "../../wasm-crypto/mod.ts";
import { webCryptoKey } from "../../wasm-crypto/test_util.ts";

if (import.meta.main) {
  const files = Deno.args;
  if (files.length === 0) throw new Error("usage: tools/wasm-crypto/variant_ab.ts A.wasm B.wasm …");
  const { pkcs8 } = await webCryptoKey("RSASSA-PKCS1-v1_5");
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const samples: number[][] = files.map(() => []);
  for (let round = 0; round < 10; round++) {
    for (const [i, file] of files.entries()) {
      wc.zeroizeMemory(); // _test_util initialised the default build
      await wc.initWasmCrypto(await Deno.readFile(file));
      const key = wc.importPrivateKeyPkcs8(pkcs8);
      const message = new Uint8Array(32);
      for (let j = 0; j < 30; j++) wc.signPkcs1v15(key, "SHA-256", message);
      const t0 = cpu(), n = 150;
      for (let j = 0; j < n; j++) wc.signPkcs1v15(key, "SHA-256", message);
      samples[i].push((cpu() - t0) / n);
      key.destroy();
      wc.zeroizeMemory();
    }
  }
  for (const [i, s] of samples.entries()) {
    s.sort((a, b) => a - b);
    console.log(
      `${files[i]} (${s.length} rounds): sign CPU ms min ${s[0].toFixed(3)}, q1 ${
        s[2].toFixed(3)
      }, median ${s[5].toFixed(3)}`,
    );
  }
}
