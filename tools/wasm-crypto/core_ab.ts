/**
 * A/B of two or more builds of the core in ONE process (so that the load of a shared
 * machine falls on all alike): each module is instantiated directly and its RSA public
 * operation (or one-shot SHA-256) called through the raw exports, in interleaved
 * batches; CPU time per call (min, lower quartile, median of 15 batches). The outputs
 * of all builds must be equal.
 *
 *   deno run -A tools/wasm-crypto/core_ab.ts OLD.wasm,NEW.wasm [verify|sha64|sha64k|modpow1024|modpow2048]
 *
 * `modpowB`: the constant-time `mod_pow` with a B-bit odd modulus and a B-bit exponent
 * (the kernel of key generation's Miller-Rabin tests at B = 1024).
 *
 * Builds older than the public context (commit 930d5a0) export no layout_pub_ctx_size;
 * their context is layout_ctx_size() bytes.
 *
 * @module
 */
import process from "node:process";
import { webCryptoKey } from "../../wasm-crypto/test_util.ts";

type Core = Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };

if (import.meta.main) {
  const files = (Deno.args[0] ?? "").split(",").filter((f) => f);
  const what = Deno.args[1] ?? "verify";
  if (files.length === 0) {
    throw new Error("usage: tools/wasm-crypto/core_ab.ts A.wasm,B.wasm [verify|sha64|sha64k]");
  }
  const { pair } = await webCryptoKey("RSASSA-PKCS1-v1_5");
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const b64 = (s: string) =>
    Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const n = b64(jwk.n!), e = b64(jwk.e!);
  const k = n.length;
  const x = crypto.getRandomValues(new Uint8Array(k));
  x[0] &= 0x3f;
  const runs: { name: string; run: () => void; out: () => string }[] = [];
  for (const f of files) {
    const { instance } = await WebAssembly.instantiate(await Deno.readFile(f), {
      env: {
        abort() {
          throw new Error("core aborted");
        },
      },
    });
    const c = instance.exports as unknown as Core;
    c.init();
    const io = c.layout_io();
    const m = () => new Uint8Array(c.memory.buffer);
    let run: () => void, out: () => string;
    if (what === "verify") {
      m().set(n, io);
      c.rsa_pub_prepare(k);
      const at = c.layout_pub_ctx();
      const size = c.layout_pub_ctx_size ? c.layout_pub_ctx_size() : c.layout_ctx_size();
      const ctx = m().slice(at, at + size);
      run = () => {
        const mm = m();
        mm.set(ctx, at);
        mm.set(x, io);
        mm.set(e, io + 1024);
        if (c.rsa_public(k, e.length) !== 0) throw new Error("rsa_public failed");
      };
      out = () => m().slice(io + 4096, io + 4096 + k).join();
    } else if (what.startsWith("modpow")) {
      const bytes = Number(what.slice(6)) / 8;
      const mod = x.slice(0, bytes);
      mod[0] |= 0x80;
      mod[bytes - 1] |= 1;
      const base = n.slice(0, bytes), exp = n.slice(k - bytes);
      run = () => {
        const mm = m();
        mm.set(base, io);
        mm.set(exp, io + 1024);
        mm.set(mod, io + 2048);
        if (c.mod_pow(bytes, bytes, bytes) !== 0) throw new Error("mod_pow failed");
      };
      out = () => m().slice(io + 4096, io + 4096 + bytes).join();
    } else {
      const data = new Uint8Array(what === "sha64" ? 64 : 65536).fill(0x5a);
      run = () => {
        m().set(data, io);
        c.sha256_oneshot(io, data.length, io + data.length);
      };
      out = () => m().slice(io + data.length, io + data.length + 32).join();
    }
    run();
    runs.push({ name: f.split("/").pop()!, run, out });
  }
  for (const r of runs) {
    if (r.out() !== runs[0].out()) {
      throw new Error(`${r.name}: output differs from ${runs[0].name}`);
    }
  }
  const iters = what === "verify"
    ? 300
    : what === "sha64"
    ? 100000
    : what.startsWith("modpow")
    ? (what === "modpow1024" ? 20 : 4)
    : 200;
  const res = runs.map(() => [] as number[]);
  for (let round = 0; round < 15; round++) {
    for (let i = 0; i < runs.length; i++) {
      const a = process.cpuUsage();
      for (let j = 0; j < iters; j++) runs[i].run();
      const b = process.cpuUsage(a);
      res[i].push((b.user + b.system) / iters);
    }
  }
  for (let i = 0; i < runs.length; i++) {
    const s = res[i].sort((a, b) => a - b);
    console.log(
      `${runs[i].name.padEnd(24)} ${what}: min ${s[0].toFixed(2)}  q1 ${s[3].toFixed(2)}  med ${
        s[7].toFixed(2)
      } µs CPU per call`,
    );
  }
}
