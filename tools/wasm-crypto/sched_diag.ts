/**
 * Diagnostic for issue 4: how much of a Chromium wall-clock figure is time a thread
 * spent waiting for a CPU (another process had it) rather than computing.
 *
 *   deno run -A tools/wasm-crypto/sched_diag.ts [--calls N] [--phases 3]
 *
 * Opens one cross-origin-isolated Chromium page with the core, WebCrypto and
 * hash-wasm, and runs phases of N back-to-back calls of one candidate (ours sign,
 * WebCrypto sign, ours verify, WebCrypto verify, ours and hash-wasm SHA-256 1 MiB).
 * Around each phase it reads `/proc/<pid>/task/<tid>/schedstat` of every thread of
 * the renderers of the browser it launched (other helpers' browsers are left out):
 * on-CPU time and run-queue wait (time runnable but not running). Per call it prints
 * the wall time, the CPU time and run-queue wait of the busiest renderer thread (its
 * name in brackets) and the CPU time of all renderer threads, so the cost of a call
 * on an idle machine (CPU) can be told apart from the
 * share the scheduler gave it on this shared one (wall − CPU ≈ wait).
 *
 * @module
 */
import { launchChromium, servePage } from "../../bench/chromium.ts";

type Stat = Map<string, { name: string; cpu: number; wait: number }>;
/** What the page puts on globalThis (type only: the callbacks run in the page). */
type DiagGlobal = {
  __diag: { names: string[]; run(name: string, n: number): Promise<number> };
};

/** Renderer processes of the browser this process launched (descendants of Deno.pid only). */
async function _rendererPids(): Promise<number[]> {
  const children = new Map<number, number[]>();
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      // pid (comm) state ppid ...: comm may hold spaces and parentheses
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e.name)]);
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const todo = [Deno.pid];
  while (todo.length) {
    const pid = todo.pop()!;
    for (const c of children.get(pid) ?? []) {
      todo.push(c);
      try {
        if ((await Deno.readTextFile(`/proc/${c}/cmdline`)).includes("--type=renderer")) {
          out.push(c);
        }
      } catch { /* gone */ }
    }
  }
  return out;
}

async function _stat(pids: number[]): Promise<Stat> {
  const m: Stat = new Map();
  for (const pid of pids) {
    try {
      for await (const t of Deno.readDir(`/proc/${pid}/task`)) {
        try {
          const [cpu, wait] = (await Deno.readTextFile(`/proc/${pid}/task/${t.name}/schedstat`))
            .trim().split(/\s+/).map(Number);
          const name = (await Deno.readTextFile(`/proc/${pid}/task/${t.name}/comm`)).trim();
          m.set(`${pid}/${t.name}`, { name, cpu: cpu / 1e6, wait: wait / 1e6 });
        } catch { /* thread ended */ }
      }
    } catch { /* process ended */ }
  }
  return m;
}

const PAGE = `
import * as wc from ${JSON.stringify(new URL("../../wasm-crypto/mod.ts", import.meta.url).href)};
import { createSHA256 } from "hash-wasm";
const w = new Uint8Array(await (await fetch("/core.wasm")).arrayBuffer());
await wc.initWasmCrypto(w);
const alg = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
const pair = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
const key = wc.importPrivateKeyPkcs8(new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey)));
const pub = wc.importPublicKeySpki(new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey)));
const msg = crypto.getRandomValues(new Uint8Array(128));
const sig = wc.signPkcs1v15(key, "SHA-256", msg);
const big = new Uint8Array(1 << 20);
for (let o = 0; o < big.length; o += 65536) crypto.getRandomValues(big.subarray(o, o + 65536));
const hw = await createSHA256();
let sink;
const ops = {
  "ours sign": () => wc.signPkcs1v15(key, "SHA-256", msg),
  "webcrypto sign": () => crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, msg),
  "ours verify": () => wc.verifyPkcs1v15(pub, "SHA-256", msg, sig),
  "webcrypto verify": () => crypto.subtle.verify("RSASSA-PKCS1-v1_5", pair.publicKey, sig, msg),
  "ours sha256 1MiB": () => wc.sha256(big),
  "hash-wasm sha256 1MiB": () => hw.init().update(big).digest("binary"),
};
globalThis.__diag = {
  names: Object.keys(ops),
  async run(name, n) {
    const f = ops[name];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) { const r = f(); sink = r instanceof Promise ? await r : r; }
    return performance.now() - t0;
  },
};
`;

if (import.meta.main) {
  const arg = (n: string, d: number) => {
    const i = Deno.args.indexOf(n);
    return i >= 0 ? Number(Deno.args[i + 1]) : d;
  };
  const calls = arg("--calls", 400);
  const phases = arg("--phases", 3);
  const dir = await Deno.makeTempDir();
  const { buildWasm } = await import("../../wasm-crypto/build.ts");
  const wasm = (await buildWasm()).relaxed.bytes; // the build Chromium's applet loads
  await Deno.writeTextFile(`${dir}/entry.js`, PAGE);
  const b = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--format",
      "esm",
      "-o",
      `${dir}/b.js`,
      `${dir}/entry.js`,
    ],
    cwd: new URL("../..", import.meta.url).pathname,
  }).output();
  if (!b.success) throw new Error(new TextDecoder().decode(b.stderr));
  const js = await Deno.readFile(`${dir}/b.js`);
  const server = servePage(js, wasm);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as DiagGlobal).__diag, null, {
      timeout: 120_000,
    });
    const names: string[] = await page.evaluate(() =>
      (globalThis as unknown as DiagGlobal).__diag.names
    );
    const pids = await _rendererPids();
    console.log(
      `renderer pids ${pids.join(",")}; load ${(await Deno.readTextFile("/proc/loadavg")).trim()}`,
    );
    for (const name of names) {
      await page.evaluate(
        ([n, k]) => (globalThis as unknown as DiagGlobal).__diag.run(n, k),
        [name, 30] as const,
      );
    }
    for (let ph = 0; ph < phases; ph++) {
      for (const name of names) {
        const n = name.includes("sha")
          ? Math.ceil(calls / 8)
          : name.includes("verify")
          ? calls * 10
          : calls;
        const a = await _stat(pids);
        const wall = await page.evaluate(
          ([x, k]) => (globalThis as unknown as DiagGlobal).__diag.run(x, k),
          [name, n] as const,
        );
        const z = await _stat(pids);
        const rows = [...z].map(([id, v]) => {
          const o = a.get(id) ?? { cpu: 0, wait: 0 };
          return { name: v.name, cpu: v.cpu - o.cpu, wait: v.wait - o.wait };
        }).sort((x, y) => y.cpu - x.cpu);
        const top = rows[0];
        const allCpu = rows.reduce((s, r) => s + r.cpu, 0);
        const f = (x: number) => (x / n * 1000).toFixed(1).padStart(8);
        console.log(
          `${name.padEnd(22)} µs/call: wall ${f(wall)}  cpu[${top.name}] ${f(top.cpu)}  wait ${
            f(top.wait)
          }  cpu(all renderer threads) ${f(allCpu)}`,
        );
      }
    }
  } finally {
    await browser.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}
