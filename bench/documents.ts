/**
 * The `documents` suite of `deno task bench` (issue 17): hash and sign a 10 MiB PDF in
 * Chromium through the real applet page — time and peak memory — against WebCrypto's
 * SHA-256 of the same bytes in the same page. docs/benchmarks.md ("Documents") says what
 * each figure covers; on its own:
 *
 *   deno run -A bench/documents.ts [--runs 11] [--mib 10] [--json]
 *
 * Method. Vault, proxy and web server as child processes (harness/ `startStack`, PGlite;
 * the vault stretching at the applet's floor, KSF_DEFAULT); headless Chromium with the team's
 * flags plus `--js-flags=--expose-gc` and `ForceEagerMeasureMemory`; one user applies,
 * consents and signs in through the page (bench/documents_page.ts); "Sign a document" is
 * opened. A PDF of exactly 10 MiB (bench/documents_pdf.ts) is written to a file that the
 * Document input is given as a path — a file chosen from disk, as a person would. One
 * warm-up run, whose signed PDF and `.p7s` are checked (bench/documents_check.ts), then
 * `runs` timed runs, each:
 *
 * 1. choose the file: the document worker hashes it (streaming, wasm-crypto) and counts
 *    its pages (pdf-lib) — `hash`, `inspect`;
 * 2. the references in the page's main thread: `File.stream()` read without hashing —
 *    `streamRead`; WebCrypto: `File.arrayBuffer()` then `crypto.subtle.digest("SHA-256")`
 *    — `webcryptoRead`, `webcryptoDigest`; its hash must equal the page's and the host's;
 * 3. "Sign document" — `prepare` (signed attributes, PAdES incremental update, SHA-256 of
 *    the byte range), `signStamp` (two RSA-2048 signatures in the signing worker, two
 *    RFC 3161 time-stamps through web server → proxy → vault, tokens checked, CMS and PDF
 *    written), `sign` = both.
 *
 * Times are differences of `performance.now()` marks taken in the page. Memory: before
 * each step a full GC in the page and every worker, then the renderer's and the browser
 * process's peak resident set over the step (Linux `VmHWM`, reset through `clear_refs`)
 * minus their resident set at its start. After the timed runs, one more run records what
 * each realm holds (`performance.measureUserAgentSpecificMemory`) after hashing and after
 * signing.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Browser, Page } from "playwright-core";
import { chromium } from "playwright-core";
import { letterPhrase, startStack } from "../harness/mod.ts";
import { KSF_DEFAULT, pemDecode, toHex } from "../protocol/mod.ts";
import { sha256 } from "../documents/mod.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.ts";
import { checkSignedOutputs } from "./documents_check.ts";
import {
  collectGarbage,
  installMarks,
  realmMemory,
  registerAndSignIn,
  resetMarks,
  shownSha256,
  waitForMark,
  webCryptoSha256,
} from "./documents_page.ts";
import { benchPdf, DOCUMENT_BENCH_BYTES } from "./documents_pdf.ts";
import { fmtMs } from "./format.ts";
import { loadAverage, peakRssKiB, resetPeakRss, rssKiB } from "./proc.ts";
import {
  documentsNotes,
  type DocumentsResult,
  documentsResult,
  documentsRows,
  type StepId,
  STEPS,
  type TimeId,
  TIMES,
} from "./documents_result.ts";

/** What to run. */
export interface DocumentsOptions {
  /** Timed runs after the warm-up (default 11). */
  runs?: number;
  /** The document's size in bytes (default 10 MiB). */
  bytes?: number;
  log?: (line: string) => void;
}

/**
 * The renderer that hosts `page` — the one whose resident set grows when the page fills
 * 64 MiB (Chromium runs a page's dedicated workers in its renderer) — and the browser
 * process.
 */
async function _pids(browser: Browser, page: Page): Promise<[number, number]> {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = await cdp.send("SystemInfo.getProcessInfo") as {
    processInfo: { type: string; id: number }[];
  };
  await cdp.detach();
  const renderers = processInfo.filter((p) => p.type === "renderer").map((p) => p.id);
  const before = renderers.map((pid) => rssKiB(pid) ?? 0);
  await page.evaluate(() => {
    (globalThis as { __docMarker?: Uint8Array }).__docMarker = new Uint8Array(64 << 20).fill(1);
  });
  const grew = renderers.map((pid, i) => (rssKiB(pid) ?? 0) - before[i]);
  await page.evaluate(() => delete (globalThis as { __docMarker?: Uint8Array }).__docMarker);
  const best = grew.indexOf(Math.max(...grew));
  if (best < 0 || grew[best] < 48 * 1024) throw new Error("bench: the page's renderer not found");
  const browserPid = processInfo.find((p) => p.type === "browser")?.id;
  if (!browserPid) throw new Error("bench: Chromium's browser process not found");
  return [renderers[best], browserPid];
}

/** Runs `step` with the peak resident set of `pids` measured over it (module doc). */
async function _peak<T>(page: Page, pids: number[], step: () => Promise<T>) {
  await collectGarbage(page);
  const start = pids.map((pid) => rssKiB(pid) ?? 0);
  for (const pid of pids) resetPeakRss(pid);
  const value = await step();
  const peak = pids.map((pid, i) => (peakRssKiB(pid) ?? 0) - start[i]);
  return { value, peak };
}

interface _Ctx {
  page: Page;
  pdfPath: string;
  sha256: string;
  pids: number[];
}

/** Chooses the file and waits for the page to show its facts; checks the hash shown. */
async function _inspect(c: _Ctx) {
  // Chromium fires no `change` when the same path is chosen again: empty the input first
  // (setting `value` to "" fires no event, so the applet sees only the choice below).
  await c.page.evaluate(
    () => ((document.getElementById("document") as HTMLInputElement).value = ""),
  );
  await c.page.getByLabel("Document", { exact: true }).setInputFiles(c.pdfPath);
  const marks = await waitForMark(c.page, "inspected");
  const shown = await shownSha256(c.page);
  if (shown !== c.sha256) {
    throw new Error(`bench: the page shows SHA-256 ${shown}, not ${c.sha256}`);
  }
  return marks;
}

async function _sign(c: _Ctx) {
  await c.page.getByRole("button", { name: "Sign document", exact: true }).click();
  return await waitForMark(c.page, "signed");
}

/** One timed run: its times (ms) and the peaks of the renderer and the browser (KiB). */
async function _run(c: _Ctx) {
  await resetMarks(c.page);
  const inspect = await _peak(c.page, c.pids, () => _inspect(c));
  const wc = await _peak(c.page, c.pids, () => webCryptoSha256(c.page));
  if (wc.value.sha256 !== c.sha256) throw new Error(`bench: WebCrypto gave ${wc.value.sha256}`);
  const sign = await _peak(c.page, c.pids, () => _sign(c));
  const m = sign.value;
  const times: Record<TimeId, number> = {
    hash: m.hashed! - m.change!,
    inspect: m.inspected! - m.change!,
    prepare: m.prepared! - m.click!,
    signStamp: m.signed! - m.prepared!,
    sign: m.signed! - m.click!,
    total: m.inspected! - m.change! + m.signed! - m.click!,
    streamRead: wc.value.streamMs,
    webcryptoRead: wc.value.readMs,
    webcryptoDigest: wc.value.digestMs,
    webcrypto: wc.value.readMs + wc.value.digestMs,
  };
  const peaks = { inspect: inspect.peak, webcrypto: wc.peak, sign: sign.peak };
  return { times, peaks };
}

/** The stack, the browser and a signed-in page with "Sign a document" open. */
async function _open(log: (line: string) => void) {
  log("[bench] documents: starting vault, proxy and web server (KSF_DEFAULT)");
  const stack = await startStack({ web: true, ksf: KSF_DEFAULT });
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        "--js-flags=--expose-gc",
        "--enable-blink-features=ForceEagerMeasureMemory",
      ],
    });
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const workerNames = new Map<string, string>();
    let label = "signing worker";
    page.on("worker", (w) => workerNames.set(w.url(), label));
    await page.goto(stack.webUrl!);
    await page.waitForFunction(() => document.documentElement.dataset.applet === "ready", null, {
      timeout: 60_000,
    });
    label = "pass-phrase strength worker";
    log("[bench] documents: a user applies, consents and signs in, in the page");
    const tag = toHex(crypto.getRandomValues(new Uint8Array(5)));
    await registerAndSignIn(
      page,
      {
        identity: `docbench${tag}`,
        fullName: `Bench Person ${tag}`,
        accountNumber: `40-${tag.slice(0, 6)}`,
        address: "1 Example Road, Hursley",
      },
      `correct horse battery ${tag}${tag}`,
      (id) => letterPhrase(stack.adminClient(), id),
    );
    label = "document worker";
    await page.getByText("Sign a document", { exact: true }).click();
    await installMarks(page);
    return { stack, browser, page, workerNames };
  } catch (err) {
    await browser?.close();
    await stack.stop();
    throw err;
  }
}

/** The timed runs: every sample of every figure. */
async function _timedRuns(c: _Ctx, runs: number, log: (line: string) => void) {
  const samples = Object.fromEntries(TIMES.map((t) => [t, [] as number[]])) as Record<
    TimeId,
    number[]
  >;
  const peaks = { renderer: _stepLists(), browser: _stepLists() };
  const resident = { renderer: [] as number[], browser: [] as number[] };
  const settle = async () => {
    await collectGarbage(c.page);
    resident.renderer.push(rssKiB(c.pids[0]) ?? 0);
    resident.browser.push(rssKiB(c.pids[1]) ?? 0);
  };
  await settle();
  for (let i = 0; i < runs; i++) {
    const r = await _run(c);
    await settle();
    for (const t of TIMES) samples[t].push(r.times[t]);
    for (const s of STEPS) {
      peaks.renderer[s].push(r.peaks[s][0]);
      peaks.browser[s].push(r.peaks[s][1]);
    }
    log(
      `[bench] documents: run ${i + 1}/${runs}: hash ${fmtMs(r.times.hash)}, sign ${
        fmtMs(r.times.sign)
      }, WebCrypto ${fmtMs(r.times.webcrypto)} (load ${loadAverage()[0]})`,
    );
  }
  return { samples, peaks, resident };
}

/** One more run, untimed: what each realm holds after hashing and after signing. */
async function _realms(c: _Ctx, workerNames: Map<string, string>) {
  await resetMarks(c.page);
  await _inspect(c);
  await collectGarbage(c.page);
  const afterInspect = await realmMemory(c.page, workerNames);
  await _sign(c);
  await collectGarbage(c.page);
  const afterSign = await realmMemory(c.page, workerNames);
  return { afterInspect, afterSign };
}

/** The suite (module doc). */
export async function runDocuments(options: DocumentsOptions = {}): Promise<DocumentsResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  const loadStart = loadAverage();
  const pdf = await benchPdf(options.bytes ?? DOCUMENT_BENCH_BYTES);
  const dir = await Deno.makeTempDir({ prefix: "roamsign-bench-doc-" });
  const pdfPath = `${dir}/contract.pdf`;
  await Deno.writeFile(pdfPath, pdf);
  const { stack, browser, page, workerNames } = await _open(log);
  try {
    const ca = pemDecode(await Deno.readTextFile(`${stack.dataDir}/ca.pem`));
    const pids = await _pids(browser, page);
    const c: _Ctx = { page, pdfPath, sha256: toHex(await sha256(pdf)), pids };

    log(`[bench] documents: warm-up run on a ${pdf.length}-byte PDF, then its outputs checked`);
    await resetMarks(page);
    await _inspect(c);
    const pages = Number(await page.locator("#document-pages").textContent());
    await _sign(c);
    const check = await checkSignedOutputs(page, pdf, ca, dir);

    const { samples, peaks, resident } = await _timedRuns(c, options.runs ?? 11, log);
    log("[bench] documents: one more run for the memory each realm holds");
    const realms = await _realms(c, workerNames);
    return documentsResult({
      chromium: browser.version(),
      pdf: { bytes: pdf.length, pages, sha256: c.sha256 },
      loadStart,
      samples,
      peaks,
      resident,
      realms,
      check,
    });
  } finally {
    await browser.close();
    await stack.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function _stepLists(): Record<StepId, number[]> {
  return { inspect: [], webcrypto: [], sign: [] };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "11" },
      mib: { type: "string", default: "10" },
      json: { type: "boolean", default: false },
    },
  });
  const r = await runDocuments({
    runs: Number(values.runs),
    bytes: Math.round(Number(values.mib) * 1024 * 1024),
  });
  if (values.json) console.log(JSON.stringify(r, null, 1));
  else {
    const t = documentsRows(r);
    console.log([t.header, ...t.rows].map((row) => row.join(" | ")).join("\n"));
    console.log(documentsNotes(r).join("\n"));
  }
}
