/// <reference lib="dom" />
/**
 * Measures the applet (issue 5's note), printing JSON:
 * - time from page load to first signature (open the page, sign in, sign a
 *   message, signature shown) for a user registered beforehand, in Chromium,
 *   at normal speed and under CDP `Emulation.setCPUThrottlingRate` 4× (see
 *   {@link throttle} for what Chromium throttles), median of `RUNS` runs each;
 * - the applet's transfer size gzipped as the web server sends it (page JS, worker JS with the OPAQUE
 *   client's glue, the OPAQUE client's wasm, wasm-crypto, CSS, HTML, icon), as served; the
 *   pass-phrase strength worker and the document worker, loaded only on demand, are reported
 *   apart (`onDemandBytes`).
 *
 * Run: `deno run -A tests/e2e/measure.ts` (RUNS=3 by default).
 *
 * @module
 */
import http from "node:http";
import type { CDPSession, Page } from "playwright-core";
import { launch } from "../fixtures/browser.ts";
import { startStack } from "../../harness/mod.ts";
import {
  consentPhraseFor,
  newPassphrase,
  newUser,
  openApplet,
  signInInPage,
  signInPageMessage,
} from "./_applet.ts";
import { applyFromDeno, consentFromDeno } from "./_deno_client.ts";
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";

/** Manifest entries the first load does not fetch. */
const _ON_DEMAND = new Set(["strength", "documents"]);

const RUNS = Number(Deno.env.get("RUNS") ?? 3);

/**
 * The bytes the web server sends for `url` to a browser that accepts gzip, as sent
 * (`node:http` does not decompress, unlike `fetch`).
 */
function servedGzipSize(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { "Accept-Encoding": "gzip" } }, (res) => {
      let n = 0;
      res.on("data", (chunk: Uint8Array) => n += chunk.length);
      res.on("end", () => resolve(n));
      res.on("error", reject);
    }).on("error", reject);
  });
}

/**
 * 4× CPU throttling through CDP. Chromium applies `Emulation.setCPUThrottlingRate` to
 * page targets only (a worker target answers "Operation is only supported for pages, not
 * workers"); on this machine a CPU-bound loop in a worker runs about 1.8–2× slower while
 * its page is throttled 4×. The worker's share of the figure is therefore under-throttled;
 * the report gives 4 × the unthrottled time as the upper bound.
 */
async function throttle(page: Page, rate: number): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate });
  return cdp;
}

const stack = await startStack({ web: true, ksf: KSF_DEFAULT });
const browser = await launch();
try {
  const base = stack.webUrl!;
  const manifest = await (await fetch(`${base}/.well-known/roamsign/manifest.json`)).json();
  const sizes: Record<string, { raw: number; gzip: number }> = {};
  const onDemand: Record<string, { raw: number; gzip: number }> = {};
  for (const [role, path] of Object.entries(manifest.entries as Record<string, string>)) {
    // Chromium loads the relaxed wasm build, not the baseline one
    if (role === "wasm" && manifest.entries.wasmRelaxed) continue;
    const bytes = new Uint8Array(await (await fetch(base + path)).arrayBuffer());
    // Fetched only when asked for: the strength worker when a new pass phrase is chosen
    // (docs/passphrase.md), the document worker when "Sign a document" is opened.
    (_ON_DEMAND.has(role) ? onDemand : sizes)[role] = {
      raw: bytes.length,
      gzip: await servedGzipSize(base + path),
    };
  }
  const total = Object.values(sizes).reduce(
    (a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip }),
    { raw: 0, gzip: 0 },
  );

  const user = newUser("m");
  const pass = newPassphrase();
  await applyFromDeno(base, user, pass);
  await consentFromDeno(base, user, await consentPhraseFor(stack, user.identity));

  const timings: Record<string, number[]> = { "1x": [], "4x": [] };
  for (let i = 0; i < RUNS; i++) {
    for (const rate of [1, 4]) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      if (rate > 1) await throttle(page, rate);
      const t0 = performance.now();
      if (await openApplet(page, base) !== "ready") throw new Error("applet did not start");
      const tReady = performance.now();
      const err = await signInInPage(page, user.identity, pass);
      if (err) throw new Error(err);
      const tSignedIn = performance.now();
      await signInPageMessage(page, `Pay 1.00 GBP, run ${i}`);
      const t1 = performance.now();
      timings[`${rate}x`].push(t1 - t0);
      console.error(
        JSON.stringify({
          rate,
          run: i,
          readyMs: Math.round(tReady - t0),
          signInMs: Math.round(tSignedIn - tReady),
          signMs: Math.round(t1 - tSignedIn),
          totalMs: Math.round(t1 - t0),
        }),
      );
      await ctx.close();
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(JSON.stringify(
    {
      pageLoadToFirstSignatureMs: {
        normal: Math.round(median(timings["1x"])),
        cpu4x: Math.round(median(timings["4x"])),
        runs: RUNS,
      },
      transferBytes: { ...sizes, total },
      onDemandBytes: onDemand,
    },
    null,
    2,
  ));
} finally {
  await browser.close();
  await stack.stop();
}
