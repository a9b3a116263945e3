/**
 * Same-process A/B of builds of the core on the scalar (non-kernel) paths that a 128-bit
 * integer type could serve (issue 21, as-bignum): key generation's candidate test and
 * a private key's import (the Montgomery set-up of n, p and q). Each build is
 * instantiated once; the operations run in interleaved rounds (the order of the builds
 * rotated per round), CPU time per call; min, q1, median, q3 of the rounds. The outputs
 * of all builds must agree.
 *
 *   deno run -A tools/wasm-crypto/bignum_ab.ts A.wasm,B.wasm [trial|search|import] [--rounds N]
 *
 * - trial: kg_candidate on a known 1024-bit prime with no Miller-Rabin rounds, i.e. the
 *   full trial division by the 2048 small primes (what every accepted prime pays), the
 *   65537 check and the Miller-Rabin set-up.
 * - search: kg_candidate(0, 2048, 5) over one fixed list of 300 random candidates, as the
 *   prime search of an RSA-2048 key generation runs it (most leave at trial division); in
 *   a build with the two-lane Miller-Rabin (kg_round2, the relaxed build) that search
 *   instead (kg_sieve, kg_round2, kg_accept), each candidate with the same bases.
 * - import: rsa_key_set of one RSA-2048 key (montSetupVarTime of n, p, q; the relaxed
 *   build also sets up its two-lane kernel).
 *
 * @module
 */
import process from "node:process";
import { webCryptoKey } from "../../wasm-crypto/test_util.ts";
import { parsePkcs8 } from "../../wasm-crypto/der.ts";
import { IO_RAND, IO_STAGE, STAGE_STRIDE } from "../../wasm-crypto/runtime.ts";

type Core = Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };

function _b64(s: string): Uint8Array {
  return Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
}

if (import.meta.main) {
  const files = (Deno.args[0] ?? "").split(",").filter((f) => f);
  const what = Deno.args[1] ?? "trial";
  const ri = Deno.args.indexOf("--rounds");
  const rounds = ri > 0 ? Number(Deno.args[ri + 1]) : 15;
  if (files.length === 0) {
    throw new Error("usage: tools/wasm-crypto/bignum_ab.ts A.wasm,B.wasm [trial|search|import]");
  }
  const { pair, pkcs8 } = await webCryptoKey("RSASSA-PKCS1-v1_5");
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const p = _b64(jwk.p!);
  const candidates = Array.from({ length: 300 }, () => crypto.getRandomValues(new Uint8Array(128)));
  const mrRand = candidates.map(() => crypto.getRandomValues(new Uint8Array(5 * 128)));
  const parts = (() => {
    const c = parsePkcs8(pkcs8);
    return [c.n, c.e, c.d, c.p, c.q, c.dP, c.dQ, c.qInv];
  })();
  const runs: { name: string; run: () => number; iters: number }[] = [];
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
    let run: () => number, iters: number;
    if (what === "trial") {
      iters = 20;
      run = () => {
        m().set(p, io);
        return c.kg_candidate(0, 2048, 0);
      };
    } else if (what === "search" && c.kg_round2) {
      // the relaxed build's two-lane search (wasm-crypto/keys.ts _searchTwoLanes) over the
      // same candidates, each with its own bases (round r: mrRand[i] at r * 128), so
      // every candidate gets the verdict it gets from kg_candidate
      iters = 1;
      run = () => {
        let accepted = 0, next = 0;
        const lane = [-1, -1], round = [0, 0];
        for (;;) {
          for (let l = 0; l < 2; l++) {
            while (lane[l] < 0 && next < candidates.length) {
              m().set(candidates[next], io);
              if (c.kg_sieve(l, 2048) === 1) {
                lane[l] = next;
                round[l] = 0;
              }
              next++;
            }
          }
          if (lane[0] < 0 || lane[1] < 0) break; // the list is used up
          const mm = m();
          for (let l = 0; l < 2; l++) {
            mm.set(
              mrRand[lane[l]].subarray(round[l] * 128, round[l] * 128 + 128),
              io + IO_RAND + l * 128,
            );
          }
          const pass = c.kg_round2(2048);
          for (let l = 0; l < 2; l++) {
            if ((pass >> l & 1) === 0) lane[l] = -1;
            else if (++round[l] === 5) {
              accepted += c.kg_accept(l, 0, 2048);
              lane[l] = -1;
            }
          }
        }
        // a survivor left in a lane when the list ran out: finish it alone, as kg_candidate
        for (let l = 0; l < 2; l++) {
          if (lane[l] >= 0) {
            const mm = m();
            mm.set(candidates[lane[l]], io);
            mm.set(mrRand[lane[l]], io + IO_RAND);
            accepted += c.kg_candidate(0, 2048, 5);
          }
        }
        c.kg_abort();
        return accepted;
      };
    } else if (what === "search") {
      iters = 1;
      run = () => {
        let accepted = 0;
        for (let i = 0; i < candidates.length; i++) {
          const mm = m();
          mm.set(candidates[i], io);
          mm.set(mrRand[i], io + IO_RAND);
          accepted += c.kg_candidate(0, 2048, 5);
        }
        c.kg_abort();
        return accepted;
      };
    } else if (what === "import") {
      iters = 50;
      const slot = c.layout_keys();
      const need = slot + c.layout_slot_size();
      if (c.memory.buffer.byteLength < need) {
        c.memory.grow(Math.ceil((need - c.memory.buffer.byteLength) / 65536));
      }
      run = () => {
        const mm = m();
        parts.forEach((x, i) => mm.set(x, io + IO_STAGE + i * STAGE_STRIDE));
        const rc = c.rsa_key_set(slot, ...parts.map((x) => x.length));
        c.rsa_key_wipe(slot);
        return rc;
      };
    } else throw new Error(`unknown operation ${what}`);
    runs.push({ name: f.split("/").pop()!, run, iters });
  }
  const first = runs.map((r) => r.run());
  if (first.some((x) => x !== first[0])) throw new Error(`outputs differ: ${first.join(", ")}`);
  const res = runs.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < runs.length; j++) {
      const i = (j + round) % runs.length;
      const a = process.cpuUsage();
      for (let n = 0; n < runs[i].iters; n++) runs[i].run();
      const b = process.cpuUsage(a);
      res[i].push((b.user + b.system) / 1000 / runs[i].iters);
    }
  }
  const unit = what === "search" ? "ms CPU per 300 candidates" : "ms CPU per call";
  for (let i = 0; i < runs.length; i++) {
    const s = res[i].sort((a, b) => a - b);
    const q = (f: number) => s[Math.floor(f * (s.length - 1))].toFixed(3);
    console.log(
      `${runs[i].name.padEnd(24)} ${what} (${s.length} rounds): min ${q(0)}  q1 ${q(0.25)}  med ${
        q(0.5)
      }  q3 ${q(0.75)} ${unit}`,
    );
  }
}
