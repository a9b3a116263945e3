/**
 * The shared Chromium session of one bench run: the localhost server, the bundled
 * bench page (runner + peers + wasm-crypto when present), the built wasm module, and
 * the browser. Opened lazily by the first suite that needs it, closed by main.ts.
 *
 * @module
 */
import type { Browser, Page } from "playwright-core";
import {
  BLANK_HTML,
  forwardConsole,
  launchChromium,
  startServer,
  withThrottling,
} from "./chromium.ts";
import type { StaticServer } from "./chromium.ts";
import { BUILD_DIR, bundle, writeEntry } from "./bundle.ts";
import { encodeInputs } from "./inputs.ts";
import type { BenchInputs } from "./inputs.ts";
import type { BuiltWasm } from "./ours_loader.ts";
import type { RunConfig, RuntimeResult } from "./runner.ts";
import type { BenchGlobal } from "./page.ts";

/** The page's global as seen from `page.evaluate` callbacks (they run in the page). */
type Global = { __roamsignBench?: BenchGlobal };

export interface ChromiumSession {
  browser: Browser;
  server: StaticServer;
  /** URL of the built wasm module on the server, or null when there is none. */
  wasmUrl: string | null;
  version: string;
  /** A new page in a fresh context with the bench bundle loaded and ready. */
  newBenchPage(): Promise<Page>;
  /** Run operations in a bench page, optionally under CPU throttling. */
  run(page: Page, config: RunConfig, inputs: BenchInputs, rate?: number): Promise<RuntimeResult>;
  close(): Promise<void>;
}

/**
 * Source of the generated page entry: links wasm-crypto in when its source is
 * present, otherwise tells the page why "ours" is unavailable.
 */
export function pageEntrySource(oursPresent: boolean, unavailable: string): string {
  const lines = ['import { exposeBench } from "../../page.ts";'];
  if (oursPresent) {
    lines.push('import * as wasmCrypto from "../../../wasm-crypto/mod.ts";');
    lines.push("exposeBench(wasmCrypto as unknown as Record<string, unknown>);");
  } else {
    lines.push(`exposeBench(${JSON.stringify(unavailable)});`);
  }
  return lines.join("\n") + "\n";
}

export async function openChromiumSession(
  ours: { present: boolean; build: BuiltWasm | null; unavailable: string },
  log: (line: string) => void,
): Promise<ChromiumSession> {
  let entry = await writeEntry("page_entry.ts", pageEntrySource(ours.present, ours.unavailable));
  let js: Uint8Array;
  try {
    js = await bundle(entry, new URL("bench.js", BUILD_DIR));
  } catch (e) {
    if (!ours.present) throw e;
    // the core's source does not bundle for the browser: measure the peers, say why
    const reason = `wasm-crypto/mod.ts does not bundle for the browser: ${
      (e as Error).message.split("\n")[0]
    }`;
    log(`[bench] ${reason}`);
    entry = await writeEntry("page_entry.ts", pageEntrySource(false, reason));
    js = await bundle(entry, new URL("bench.js", BUILD_DIR));
  }
  const server = startServer();
  server.put("/bench.html", {
    body: BLANK_HTML + '<script type="module" src="/bench.js"></script>',
    type: "text/html",
  });
  server.put("/blank.html", { body: BLANK_HTML, type: "text/html" });
  server.put("/favicon.ico", { body: new Uint8Array(0), type: "image/x-icon" });
  server.put("/bench.js", { body: js, type: "text/javascript" });
  const wasmUrl = ours.build ? `${server.origin}/wasm/roamsign.wasm` : null;
  if (ours.build) {
    server.put("/wasm/roamsign.wasm", { body: ours.build.bytes, type: "application/wasm" });
  }
  const browser = await launchChromium();
  const session: ChromiumSession = {
    browser,
    server,
    wasmUrl,
    version: browser.version(),
    async newBenchPage() {
      const context = await browser.newContext();
      const page = await context.newPage();
      forwardConsole(page, log);
      await page.goto(`${server.origin}/bench.html`);
      await page.waitForFunction(() => typeof (globalThis as Global).__roamsignBench === "object");
      return page;
    },
    async run(page, config, inputs, rate = 1) {
      const inputsJson = encodeInputs(inputs);
      const go = () =>
        page.evaluate(
          ([runtime, cfg, json, url]) =>
            (globalThis as Global).__roamsignBench!.run(runtime, cfg, json, url),
          [
            `chromium ${browser.version()}${rate === 1 ? "" : ` at ${rate}× CPU throttling`}`,
            config,
            inputsJson,
            wasmUrl,
          ] as const,
        );
      const text = rate === 1 ? await go() : await withThrottling(page, rate, go);
      return JSON.parse(text) as RuntimeResult;
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
  return session;
}
