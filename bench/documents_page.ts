/// <reference lib="dom" />
/**
 * The `documents` suite's hands in the applet page (bench/documents.ts): a user applies,
 * consents and signs in through the page's own forms, as a person would (the accessible
 * names of issue 5, as tests/e2e/_applet.ts does; bench/ does not import tests/); then
 * marks the suite reads from the page's clock; the WebCrypto reference; and the memory
 * the page's realms hold (`performance.measureUserAgentSpecificMemory`).
 *
 * The marks come from listeners and a MutationObserver installed in the page, not from
 * Playwright's round trips, so they time what the applet does and nothing of the driver:
 *
 * - `change`    the file input's `change` event (capture phase: before the applet's own)
 * - `hashed`    the progress bar reaches 1: the document worker's streaming SHA-256 is done
 * - `inspected` the file's facts are shown (hash, then pdf-lib's page count)
 * - `click`     the "Sign document" button is pressed
 * - `prepared`  the status says "Signing…": the signed attributes and the PAdES
 *               incremental update (with the SHA-256 of its byte range) are built
 * - `signed`    the "Document signed" region is shown: both signatures made, both
 *               time-stamps fetched from the vault's TSA and checked, CMS and PDF written
 *
 * @module
 */
import type { Page } from "playwright-core";
import type { Registration } from "../protocol/mod.ts";

/** performance.now() in the page at each mark (ms), absent until it happened. */
export interface Marks {
  change?: number;
  hashed?: number;
  inspected?: number;
  click?: number;
  prepared?: number;
  signed?: number;
}

/** Waits for the status to match `status` or an alert; throws with the alert's text. */
async function _outcome(page: Page, status: RegExp, what: string): Promise<void> {
  await page.waitForFunction(
    ([src]) => {
      const a = document.querySelector('[role="alert"]')?.textContent?.trim();
      const s = document.querySelector('[role="status"]')?.textContent ?? "";
      return Boolean(a) || new RegExp(src as string).test(s);
    },
    [status.source],
    { timeout: 180_000 },
  );
  const alert = (await page.getByRole("alert").textContent())?.trim();
  if (alert) throw new Error(`bench: ${what} failed: ${alert}`);
}

async function _fillRegistration(page: Page, r: Registration): Promise<void> {
  await page.getByLabel("Identity", { exact: true }).fill(r.identity);
  await page.getByLabel("Full name", { exact: true }).fill(r.fullName);
  await page.getByLabel("Account number", { exact: true }).fill(r.accountNumber);
  await page.getByLabel("Address", { exact: true }).fill(r.address);
}

/**
 * Applies (RSA-2048, the key made by the applet's wasm-crypto), consents with the phrase
 * `phraseFor` reads from the operator's letters, and signs in: all in the page.
 */
export async function registerAndSignIn(
  page: Page,
  r: Registration,
  passphrase: string,
  phraseFor: (identity: string) => Promise<string>,
): Promise<void> {
  await page.getByRole("tab", { name: "New registration" }).click();
  await _fillRegistration(page, r);
  await page.getByLabel("Pass phrase", { exact: true }).fill(passphrase);
  await page.getByLabel("Confirm pass phrase", { exact: true }).fill(passphrase);
  await page.getByLabel("Key size", { exact: true }).selectOption("2048");
  await page.getByRole("button", { name: "Apply to register", exact: true }).click();
  await _outcome(page, /Application received/, "apply");
  await page.getByRole("tab", { name: "Consent letter" }).click();
  await _fillRegistration(page, r);
  await page.getByLabel("Consent phrase", { exact: true }).fill(await phraseFor(r.identity));
  await page.getByRole("button", { name: "Give consent", exact: true }).click();
  await _outcome(page, /Consent accepted/, "consent");
  await page.getByRole("tab", { name: "Sign in" }).click();
  await page.getByLabel("Identity", { exact: true }).fill(r.identity);
  await page.getByLabel("Pass phrase", { exact: true }).fill(passphrase);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await _outcome(page, /Signed in as/, "sign-in");
}

/** Installs the recorder of {@link Marks} in the page (once). */
export async function installMarks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = globalThis as unknown as { __docMarks: Record<string, number> };
    w.__docMarks = {};
    const mark = (k: string) => {
      w.__docMarks[k] ??= performance.now();
    };
    document.addEventListener("change", (e) => {
      if ((e.target as HTMLElement).id === "document") mark("change");
    }, true);
    document.addEventListener("click", (e) => {
      const b = (e.target as HTMLElement).closest("button");
      if (b?.textContent?.trim() === "Sign document") mark("click");
    }, true);
    // Each mark needs a change (a mutation record), so what a previous run left on the
    // page (a full progress bar, the last file's facts, its result) marks nothing.
    new MutationObserver((records) => {
      const m = w.__docMarks;
      if (m.change === undefined) return;
      for (const r of records) {
        const t = r.target as HTMLElement;
        const added = [...r.addedNodes].map((n) => (n as HTMLElement).id);
        if (t.id === "document-progress" && t.getAttribute("value") === "1") mark("hashed");
        if (t.id === "document-info-slot" && added.includes("document-info")) mark("inspected");
        if (m.click === undefined) continue;
        if (t.id === "status" && /^Signing/.test(t.textContent ?? "")) mark("prepared");
        if (t.id === "document-slot" && added.includes("document-signature")) mark("signed");
      }
    }).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["value"],
    });
  });
}

/** Forgets the marks (before a run). */
export async function resetMarks(page: Page): Promise<void> {
  await page.evaluate(() => {
    (globalThis as unknown as { __docMarks: Record<string, number> }).__docMarks = {};
  });
}

/** Waits until `key` is marked (or an alert shows) and returns every mark so far. */
export async function waitForMark(page: Page, key: keyof Marks): Promise<Marks> {
  await page.waitForFunction(
    (k) => {
      const m = (globalThis as unknown as { __docMarks: Record<string, number> }).__docMarks;
      return m[k] !== undefined ||
        Boolean(document.querySelector('[role="alert"]')?.textContent?.trim());
    },
    key,
    { timeout: 120_000, polling: 50 },
  );
  const marks = await page.evaluate(() =>
    (globalThis as unknown as { __docMarks: Marks }).__docMarks
  );
  if (marks[key] === undefined) {
    const alert = (await page.getByRole("alert").textContent())?.trim();
    throw new Error(`bench: the page showed "${alert}" before "${key}"`);
  }
  return marks;
}

/** The hash the page shows for the chosen file (lower-case hex). */
export async function shownSha256(page: Page): Promise<string> {
  return ((await page.locator("#document-sha256").textContent()) ?? "").trim();
}

/**
 * The references over the chosen file, in the page's main thread: the file read as a
 * stream without hashing (what reading costs ours), then WebCrypto: read whole, digest.
 */
export interface WebCryptoRun {
  /** `File.stream()` read to the end, chunks dropped: the reading floor of a streaming hash. */
  streamMs: number;
  /** `File.arrayBuffer()`: the whole file into memory (WebCrypto cannot stream). */
  readMs: number;
  /** `crypto.subtle.digest("SHA-256", bytes)`. */
  digestMs: number;
  sha256: string;
}

/** Runs the references on the file the Document input holds. */
export async function webCryptoSha256(page: Page): Promise<WebCryptoRun> {
  return await page.evaluate(async () => {
    const file = (document.getElementById("document") as HTMLInputElement).files![0];
    const s0 = performance.now();
    const reader = file.stream().getReader();
    while (!(await reader.read()).done);
    const streamMs = performance.now() - s0;
    const t0 = performance.now();
    const bytes = await file.arrayBuffer();
    const t1 = performance.now();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const t2 = performance.now();
    const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    return { streamMs, readMs: t1 - t0, digestMs: t2 - t1, sha256 };
  });
}

/** One realm's memory as `performance.measureUserAgentSpecificMemory()` attributes it. */
export interface RealmMemory {
  /** window, signing worker, document worker, …, or "shared / DOM / unattributed". */
  realm: string;
  bytes: number;
}

/**
 * The memory the page's realms hold now, by realm (JavaScript heap with its ArrayBuffers
 * and wasm memories; the page's DOM; V8's shared heap). Chromium answers at once with
 * `--enable-blink-features=ForceEagerMeasureMemory` (otherwise at the next GC).
 * `workerNames` labels each worker script URL.
 */
export async function realmMemory(
  page: Page,
  workerNames: Map<string, string>,
): Promise<RealmMemory[]> {
  const m = await page.evaluate(() =>
    (performance as unknown as {
      measureUserAgentSpecificMemory(): Promise<{
        breakdown: { bytes: number; attribution: { scope: string; url: string }[] }[];
      }>;
    }).measureUserAgentSpecificMemory()
  );
  const out = new Map<string, number>();
  for (const b of m.breakdown) {
    const a = b.attribution[0];
    const realm = !a
      ? "shared / DOM / unattributed"
      : a.scope === "Window"
      ? "page (main thread)"
      : workerNames.get(a.url) ?? `${a.scope} ${a.url}`;
    out.set(realm, (out.get(realm) ?? 0) + b.bytes);
  }
  return [...out].map(([realm, bytes]) => ({ realm, bytes }));
}

/** Runs a full garbage collection in the page and each of its workers (`--expose-gc`). */
export async function collectGarbage(page: Page): Promise<void> {
  const gc = () => (globalThis as unknown as { gc?: () => void }).gc?.();
  await page.evaluate(gc);
  for (const w of page.workers()) await w.evaluate(gc).catch(() => undefined);
}
