/**
 * The fault attack on the final CRT recombination (issue 15, item 3; Boneh, DeMillo and
 * Lipton 1997): a transient fault in the mod-p half of Garner's recombination gives a
 * signature s' that is right modulo q and wrong modulo p, so gcd(s'^e - m, n) = q factors
 * the modulus. The fault is injected by a test build of the core (build.ts
 * FAULT_TEST_FLAGS: assembly/rsa.ts `faultTestHook`, armed through the last word of IO),
 * which runs in a Worker; the shipping builds do not contain the hook.
 */
import { assert, assertEquals } from "./test_assert.ts";
import { buildWasm, compileWasm, FAULT_TEST_FLAGS, VARIANTS, type WasmVariant } from "./build.ts";
import { hex, powBig, toBig, unbalancedKey, webCryptoKey } from "./test_util.ts";

type Outcome = {
  variant: string;
  released: string | null;
  error: string | null;
  ioOut: string;
  /** The next, unarmed call with the same key: what it released. */
  after: string | null;
};

/** One armed call: `warm` unarmed calls with a fresh key first, then the call with `arm`. */
type Case = { arm: number; warm: number };

/**
 * In a Worker running `bytes`: per case, imports the key afresh (so its blinding pair is
 * drawn afresh), computes x^d mod n with rsaPrivateRaw `warm` times unarmed (each call
 * after the first squares the pair instead), then once with the arm value (0: no fault;
 * i > 0: the fault in the i-th Garner call of that operation), then once more unarmed.
 * Returns what the armed call released, what IO's output area holds after it, and what
 * the next call released.
 */
async function privateOpsIn(
  bytes: Uint8Array,
  pkcs8: Uint8Array,
  x: Uint8Array,
  cases: Case[],
): Promise<Outcome[]> {
  const mod = JSON.stringify(new URL("./mod.ts", import.meta.url).href);
  const runtime = JSON.stringify(new URL("./runtime.ts", import.meta.url).href);
  const worker = new Worker(
    URL.createObjectURL(
      new Blob([
        `import * as wc from ${mod};
         import { mem, state } from ${runtime};
         const hex = (b) => Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
         self.onmessage = async ({ data }) => {
           try {
             await wc.initWasmCrypto(data.bytes);
             const core = state().core;
             const io = core.layout_io(), arm = io + core.layout_io_size() - 4;
             const out = data.cases.map(({ arm: a, warm }) => {
               const key = wc.importPrivateKeyPkcs8(data.pkcs8);
               for (let i = 0; i < warm; i++) wc.rsaPrivateRaw(key, data.x);
               new DataView(mem().buffer).setUint32(arm, a, true);
               let released = null, error = null;
               try { released = hex(wc.rsaPrivateRaw(key, data.x)); }
               catch (e) { error = String(e?.code ?? e); }
               new DataView(mem().buffer).setUint32(arm, 0, true);
               const ioOut = hex(mem().subarray(io + 4096, io + 4096 + data.x.length));
               const after = hex(wc.rsaPrivateRaw(key, data.x));
               key.destroy();
               return { variant: wc.coreVariant(), released, error, ioOut, after };
             });
             self.postMessage(out);
           } catch (e) { self.postMessage({ error: String(e?.code ?? e) }); }
         };`,
      ], { type: "application/javascript" }),
    ),
    { type: "module" },
  );
  try {
    const answer = await new Promise<Outcome[] | { error: string }>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage({ bytes, pkcs8, x, cases });
    });
    if ("error" in answer) throw new Error(`worker: ${answer.error}`);
    return answer;
  } finally {
    worker.terminate();
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

Deno.test("a fault in the final CRT recombination is caught: no faulty signature, nothing to factor n with (Boneh-DeMillo-Lipton)", async () => {
  const { pkcs8, pair } = await webCryptoKey("RSASSA-PKCS1-v1_5", "SHA-256", 2048);
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const b64 = (s: string) =>
    Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const n = toBig(b64(jwk.n!)), e = toBig(b64(jwk.e!));
  const x = crypto.getRandomValues(new Uint8Array(256));
  x[0] = 0x01; // x < n
  const m = toBig(x);
  const broken: string[] = [];
  for (const variant of Object.keys(VARIANTS) as WasmVariant[]) {
    const bytes = await compileWasm(variant, FAULT_TEST_FLAGS);
    // a key's first call draws its blinding pair (Garner call 1 is the pair's r*b, call 2
    // the final recombination); a later call squares the pair (its one Garner call is the
    // final recombination)
    const [clean, final, blinding, squared] = await privateOpsIn(bytes, pkcs8, x, [
      { arm: 0, warm: 0 },
      { arm: 2, warm: 0 },
      { arm: 1, warm: 0 },
      { arm: 1, warm: 2 },
    ]);
    assert(clean.released !== null, `${variant}: ${clean.error}`);
    assertEquals(powBig(BigInt(`0x${clean.released}`), e, n), m, `${variant}: unfaulted result`);
    for (
      const [what, o] of [
        ["final recombination", final],
        ["blinding's recombination", blinding],
        ["final recombination with a squared blinding pair", squared],
      ] as const
    ) {
      // whatever the fault touched, the key's next call is right (a pair that failed the
      // check is dropped and drawn afresh)
      if (o.after !== clean.released) broken.push(`${variant}, ${what}: the next call is wrong`);
      if (o.released !== null) {
        const g = gcd(((powBig(BigInt(`0x${o.released}`), e, n) - m) % n + n) % n, n);
        broken.push(
          `${variant} build, fault in the ${what}: a faulty signature was released` +
            (g > 1n && g < n && n % g === 0n
              ? `, and gcd(s'^e - m, n) is a ${g.toString(2).length}-bit factor of n`
              : ""),
        );
      } else if (o.error !== "fault_detected") broken.push(`${variant}, ${what}: error ${o.error}`);
      else if (!/^0*$/.test(o.ioOut)) {
        broken.push(`${variant}, ${what}: IO's output area is not zero`);
      }
    }
  }
  assertEquals(broken, []);
});

Deno.test("the shipping builds contain no fault-injection hook (the test build does)", async () => {
  const builds = await buildWasm();
  for (
    const [variant, shipping] of [["baseline", builds.bytes], [
      "relaxed",
      builds.relaxed.bytes,
    ]] as const
  ) {
    const withHook = await compileWasm(variant, FAULT_TEST_FLAGS);
    assert(hex(withHook) !== hex(shipping), `${variant}: the test build should differ`);
    const names = (b: Uint8Array) =>
      WebAssembly.Module.exports(new WebAssembly.Module(b as Uint8Array<ArrayBuffer>)).map((x) =>
        x.name
      );
    assertEquals(names(shipping), names(withHook), `${variant}: same exports`);
    assert(
      !names(shipping).some((x) => /fault|hook|test_arm/i.test(x)),
      `${variant}: a hook export`,
    );
  }
});

Deno.test("a fault in the general CRT path's recombination is caught too (primes of different limb counts)", async () => {
  const { pkcs8, n, e } = await unbalancedKey();
  const x = crypto.getRandomValues(new Uint8Array(256));
  x[0] = 0x01;
  const m = toBig(x);
  const bytes = await compileWasm("relaxed", FAULT_TEST_FLAGS);
  const [clean, faulted] = await privateOpsIn(bytes, pkcs8, x, [
    { arm: 0, warm: 0 },
    { arm: 1, warm: 0 },
  ]);
  assert(clean.released !== null, `${clean.error}`);
  assertEquals(powBig(BigInt(`0x${clean.released}`), e, n), m);
  assertEquals(faulted.released, null, "a faulty signature was released");
  assertEquals(faulted.error, "fault_detected");
  assert(/^0*$/.test(faulted.ioOut), "IO's output area is not zero");
  assertEquals(faulted.after, clean.released, "the next call");
});
