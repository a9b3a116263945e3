/**
 * Quick interleaved comparison of the core with WebCrypto, hash-wasm and
 * micro-rsa-dsa-dh, in Chromium (default) or Deno — the tuning loop of issue 4
 * until `deno task bench` (bench/) is available; that harness is the reference.
 *
 *   deno run -A tools/wasm-crypto/quick_bench.ts [--deno] [--rounds N] [--only sign,verify,sha,keygen] [--wasm FILE]
 *
 * Every operation is timed in interleaved rounds (the order rotated per round),
 * each round one batch of ≥ 30 ms per candidate; the figure is the median of the
 * per-call times (and the minimum), the ratio ours ÷ this from the medians.
 *
 * @module
 */
import * as wc from "../../wasm-crypto/mod.ts";
import { mem, state } from "../../wasm-crypto/runtime.ts";
import { createSHA1, createSHA256 } from "hash-wasm";
import { PKCS1_SHA256 } from "micro-rsa-dsa-dh/rsa.js";

type Candidate = { impl: string; fn: () => unknown };
export type Row = Record<string, string>;

let _sink: unknown;

async function _batch(fn: () => unknown, k: number, isAsync: boolean): Promise<number> {
  const t0 = performance.now();
  if (isAsync) { for (let i = 0; i < k; i++) _sink = await fn(); }
  else for (let i = 0; i < k; i++) _sink = fn();
  return performance.now() - t0;
}

function _median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function _measure(op: string, cands: Candidate[], rounds: number): Promise<Row> {
  const info = [];
  for (const c of cands) {
    const first = c.fn();
    const isAsync = first instanceof Promise;
    if (isAsync) await first;
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 200) {
      await _batch(c.fn, 1, isAsync);
      n++;
    }
    info.push({ c, isAsync, k: Math.max(1, Math.ceil(30 / (200 / n))), s: [] as number[] });
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < info.length; i++) {
      const x = info[(i + r) % info.length];
      x.s.push((await _batch(x.c.fn, x.k, x.isAsync)) / x.k);
    }
  }
  const ours = _median(info[0].s);
  const row: Row = { op };
  for (const x of info) {
    const m = _median(x.s);
    row[x.c.impl] = `${m.toFixed(4)} ms (min ${Math.min(...x.s).toFixed(4)}), ours/this ${
      (ours / m).toFixed(2)
    }`;
  }
  return row;
}

function _b64uBig(s: string): bigint {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return BigInt(
    "0x" + Array.from(b, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
  );
}

/** Runs the comparisons (in whichever runtime imports this module). */
export async function runQuickBench(
  wasm: BufferSource | undefined,
  only: string[],
  rounds: number,
): Promise<Row[]> {
  await wc.initWasmCrypto(wasm);
  const rows: Row[] = [];
  const msg = crypto.getRandomValues(new Uint8Array(128));
  const alg = {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  };
  const pair = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  const key = wc.importPrivateKeyPkcs8(
    new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
  );
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const micro = { n: _b64uBig(jwk.n!), d: _b64uBig(jwk.d!) };
  const sig = wc.signPkcs1v15(key, "SHA-256", msg) as Uint8Array<ArrayBuffer>;
  const web = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, msg));
  if (web.join() !== sig.join()) {
    throw new Error("quick bench: our signature differs from WebCrypto's");
  }
  if (only.includes("sign")) {
    rows.push(
      await _measure("RSA-2048 PKCS#1 v1.5 sign", [
        { impl: "ours", fn: () => wc.signPkcs1v15(key, "SHA-256", msg) },
        {
          impl: "webcrypto",
          fn: () => crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, msg),
        },
        { impl: "micro-rsa-dsa-dh", fn: () => PKCS1_SHA256.sign(micro, msg) },
      ], rounds),
    );
  }
  if (only.includes("verify")) {
    rows.push(
      await _measure("RSA-2048 verify", [
        { impl: "ours", fn: () => wc.verifyPkcs1v15(key.publicKey, "SHA-256", msg, sig) },
        {
          impl: "webcrypto",
          fn: () => crypto.subtle.verify("RSASSA-PKCS1-v1_5", pair.publicKey, sig, msg),
        },
      ], rounds),
    );
  }
  if (only.includes("verifyparts")) {
    // the core's rsa_public alone on the state the last public operation left (the
    // context stays in place; the signature is rewritten to IO_IN each call)
    wc.rsaPublicRaw(key.publicKey, sig);
    const s = state(), io = s.io;
    const e = new Uint8Array([1, 0, 1]);
    const coreOnly = () => {
      const m = mem();
      m.set(sig, io);
      m.set(e, io + 1024);
      return s.core.rsa_public(sig.length, 3);
    };
    // where a verify's time goes: the whole call, the public operation with its host
    // side (copies, view checks, wipes), and the message hash alone
    rows.push(
      await _measure("RSA-2048 verify, parts", [
        { impl: "ours", fn: () => wc.verifyPkcs1v15(key.publicKey, "SHA-256", msg, sig) },
        { impl: "ours.publicOp", fn: () => wc.rsaPublicRaw(key.publicKey, sig) },
        { impl: "ours.sha256", fn: () => wc.sha256(msg) },
        { impl: "ours.core", fn: coreOnly },
        {
          impl: "webcrypto",
          fn: () => crypto.subtle.verify("RSASSA-PKCS1-v1_5", pair.publicKey, sig, msg),
        },
      ], rounds),
    );
  }
  if (only.includes("sha")) {
    const h1 = await createSHA1(), h256 = await createSHA256();
    for (const size of [64, 1 << 20]) {
      const data = new Uint8Array(size);
      for (let o = 0; o < size; o += 65536) {
        crypto.getRandomValues(data.subarray(o, Math.min(size, o + 65536)));
      }
      const label = size === 64 ? "64 B" : "1 MiB";
      rows.push(
        await _measure(`SHA-256 ${label}`, [
          { impl: "ours", fn: () => wc.sha256(data) },
          { impl: "hash-wasm", fn: () => h256.init().update(data).digest("binary") },
        ], rounds),
        await _measure(`SHA-1 ${label}`, [
          { impl: "ours", fn: () => wc.sha1(data) },
          { impl: "hash-wasm", fn: () => h1.init().update(data).digest("binary") },
        ], rounds),
      );
    }
  }
  if (only.includes("keygen")) {
    const ours: number[] = [], webc: number[] = [];
    for (let i = 0; i < rounds; i++) {
      let t = performance.now();
      wc.generateRsaKey(2048).destroy();
      ours.push(performance.now() - t);
      t = performance.now();
      await crypto.subtle.generateKey(alg, true, ["sign"]);
      webc.push(performance.now() - t);
    }
    const o = _median(ours), w = _median(webc);
    rows.push({
      op: `RSA-2048 keygen (${rounds} keys each)`,
      ours: `${o.toFixed(1)} ms`,
      webcrypto: `${w.toFixed(1)} ms, ours/this ${(o / w).toFixed(2)}`,
    });
  }
  key.destroy();
  void _sink;
  return rows;
}

async function _chromium(only: string[], rounds: number): Promise<Row[]> {
  const { launchChromium, servePage } = await import("../../bench/chromium.ts");
  const here = new URL(".", import.meta.url);
  const dir = await Deno.makeTempDir();
  try {
    const entry = `${dir}/entry.ts`;
    await Deno.writeTextFile(
      entry,
      `import { runQuickBench } from ${JSON.stringify(new URL("quick_bench.ts", here).href)};\n` +
        `const w = new Uint8Array(await (await fetch("/core.wasm")).arrayBuffer());\n` +
        `(globalThis as any).__rows = await runQuickBench(w, ${JSON.stringify(only)}, ${rounds})` +
        `.catch((e: Error) => ({ error: String(e.stack) }));\n`,
    );
    const bundled = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--format",
        "esm",
        "-o",
        `${dir}/b.js`,
        entry,
      ],
    }).output();
    if (!bundled.success) throw new Error(new TextDecoder().decode(bundled.stderr));
    const js = await Deno.readFile(`${dir}/b.js`);
    // the relaxed build, as Chromium's applet takes it, or the file given with --wasm
    const { buildWasm } = await import("../../wasm-crypto/build.ts");
    const file = Deno.args.includes("--wasm") ? Deno.args[Deno.args.indexOf("--wasm") + 1] : "";
    const wasm = file ? await Deno.readFile(file) : (await buildWasm()).relaxed.bytes;
    const server = servePage(js, wasm);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.origin}/`);
      // deno-lint-ignore no-explicit-any
      await page.waitForFunction(() => (globalThis as any).__rows, null, { timeout: 900_000 });
      // deno-lint-ignore no-explicit-any
      const rows = await page.evaluate(() => (globalThis as any).__rows);
      if (!Array.isArray(rows)) throw new Error(rows.error);
      return rows;
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const args = Deno.args;
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const rounds = Number(value("--rounds") ?? 21);
  const only = (value("--only") ?? "sign,verify,sha,keygen").split(",");
  const rows = args.includes("--deno")
    ? await runQuickBench(undefined, only, rounds)
    : await _chromium(only, rounds);
  console.log(`${args.includes("--deno") ? "Deno" : "Chromium"}, ${rounds} rounds`);
  for (const row of rows) console.log(JSON.stringify(row));
}
