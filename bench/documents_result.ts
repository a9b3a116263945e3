/**
 * The `documents` suite's result (bench/documents.ts): its shape in latest.json, how it is
 * summarised from the runs, and the table and lines that stdout and report.html show.
 *
 * @module
 */
import type { DocumentsCheck } from "./documents_check.ts";
import type { RealmMemory } from "./documents_page.ts";
import { fmtMs, fmtRatio } from "./format.ts";
import { loadAverage } from "./proc.ts";
import { summarize, type Summary } from "./stats.ts";

/** The time figures of one run, in milliseconds (docs/benchmarks.md, "Documents"). */
export const TIMES = [
  "hash",
  "inspect",
  "prepare",
  "signStamp",
  "sign",
  "total",
  "streamRead",
  "webcryptoRead",
  "webcryptoDigest",
  "webcrypto",
] as const;
export type TimeId = typeof TIMES[number];

/** The steps whose peak memory is measured. */
export const STEPS = ["inspect", "webcrypto", "sign"] as const;
export type StepId = typeof STEPS[number];

/** A figure over the timed runs: median, min, max and every sample. */
export type Figure = Summary & { samples: number[] };

/** The suite's result (`suites.documents` in latest.json). */
export interface DocumentsResult {
  kind: "documents";
  /** Chromium's version. */
  chromium: string;
  document: { bytes: number; pages: number; sha256: string };
  runs: number;
  /** The machine's load averages (1, 5, 15 min) when the suite started and ended. */
  loadAverage: { start: number[]; end: number[] };
  timesMs: Record<TimeId, Figure>;
  /** Per run: ours `hash` ÷ WebCrypto read + digest, and ÷ WebCrypto's digest alone. */
  hashRatio: { vsWebcrypto: Figure; vsDigestOnly: Figure };
  /** 10⁶ bytes per second at the medians. */
  mbPerS: { ours: number; webcrypto: number; webcryptoDigest: number; streamRead: number };
  memory: {
    /** Peak minus start of the renderer (the page and its workers), per step, KiB. */
    rendererPeakKiB: Record<StepId, Figure>;
    /** The same for the browser process (where Blob data lives), KiB. */
    browserPeakKiB: Record<StepId, Figure>;
    /**
     * Resident sets after a full GC in the page and its workers (KiB): before the first
     * timed run, then after each.
     */
    residentKiB: { renderer: number[]; browser: number[] };
    /** What each realm holds after hashing and after signing (one extra run). */
    realms: { afterInspect: RealmMemory[]; afterSign: RealmMemory[] };
  };
  check: DocumentsCheck;
}

/** What the runs collected, for {@link documentsResult}. */
export interface DocumentsRaw {
  chromium: string;
  pdf: { bytes: number; pages: number; sha256: string };
  loadStart: number[];
  samples: Record<TimeId, number[]>;
  peaks: { renderer: Record<StepId, number[]>; browser: Record<StepId, number[]> };
  resident: { renderer: number[]; browser: number[] };
  realms: DocumentsResult["memory"]["realms"];
  check: DocumentsCheck;
}

function _figure(samples: number[]): Figure {
  return { ...summarize(samples), samples };
}

/** Summarises the runs (the ratios per run, then their median: same run, same noise). */
export function documentsResult(r: DocumentsRaw): DocumentsResult {
  const times = Object.fromEntries(TIMES.map((t) => [t, _figure(r.samples[t])])) as Record<
    TimeId,
    Figure
  >;
  const perRun = (den: number[]) => _figure(r.samples.hash.map((h, i) => h / den[i]));
  const steps = (lists: Record<StepId, number[]>) =>
    Object.fromEntries(STEPS.map((s) => [s, _figure(lists[s])])) as Record<StepId, Figure>;
  const mb = (ms: number) => r.pdf.bytes / ms / 1000;
  return {
    kind: "documents",
    chromium: r.chromium,
    document: r.pdf,
    runs: r.samples.hash.length,
    loadAverage: { start: r.loadStart, end: loadAverage() },
    timesMs: times,
    hashRatio: {
      vsWebcrypto: perRun(r.samples.webcrypto),
      vsDigestOnly: perRun(r.samples.webcryptoDigest),
    },
    mbPerS: {
      ours: mb(times.hash.median),
      webcrypto: mb(times.webcrypto.median),
      webcryptoDigest: mb(times.webcryptoDigest.median),
      streamRead: mb(times.streamRead.median),
    },
    memory: {
      rendererPeakKiB: steps(r.peaks.renderer),
      browserPeakKiB: steps(r.peaks.browser),
      residentKiB: r.resident,
      realms: r.realms,
    },
    check: r.check,
  };
}

const _LABELS: [TimeId, string, StepId?][] = [
  ["hash", "hash: document worker, streaming wasm SHA-256"],
  ["inspect", "choose → facts shown (hash + page count)", "inspect"],
  ["prepare", "sign: attributes + PAdES update + range hash"],
  ["signStamp", "sign: 2 RSA sigs + 2 TSA tokens + CMS + PDF"],
  ["sign", "sign: click → 'Document signed'", "sign"],
  ["total", "end to end (choose → facts + click → signed)"],
  ["streamRead", "reference: File.stream() read, no hash"],
  ["webcryptoRead", "WebCrypto: File.arrayBuffer()"],
  ["webcryptoDigest", "WebCrypto: digest('SHA-256')"],
  ["webcrypto", "WebCrypto: read + digest", "webcrypto"],
];

const _mib = (kib: number) => `${kib >= 0 ? "+" : ""}${(kib / 1024).toFixed(1)} MiB`;

/** One row per figure: median, min, max, and the step's peak memory (renderer / browser). */
export function documentsRows(d: DocumentsResult): { header: string[]; rows: string[][] } {
  return {
    header: ["step", "median", "min", "max", "peak memory: renderer / browser (median)"],
    rows: _LABELS.map(([id, label, step]) => {
      const f = d.timesMs[id];
      return [
        label,
        fmtMs(f.median),
        fmtMs(f.min),
        fmtMs(f.max),
        step
          ? `${_mib(d.memory.rendererPeakKiB[step].median)} / ${
            _mib(d.memory.browserPeakKiB[step].median)
          }`
          : "",
      ];
    }),
  };
}

function _realms(list: RealmMemory[]): string {
  return list.toSorted((a, b) => b.bytes - a.bytes)
    .map((r) => `${r.realm} ${(r.bytes / 1048576).toFixed(1)} MiB`).join(", ");
}

function _trend(name: string, kib: number[]): string {
  const first = kib[0] / 1024;
  const last = kib[kib.length - 1] / 1024;
  const per = kib.length > 1 ? (last - first) / (kib.length - 1) : 0;
  return `${name} ${first.toFixed(0)} → ${last.toFixed(0)} MiB (${per >= 0 ? "+" : ""}${
    per.toFixed(1)
  } MiB per run)`;
}

/** The lines under the table: ratios, realms, the check, the machine's load. */
export function documentsNotes(d: DocumentsResult): string[] {
  const r = d.hashRatio;
  return [
    `${(d.document.bytes / 1048576).toFixed(1)} MiB PDF, ${d.document.pages} pages, ` +
    `${d.runs} timed runs after 1 warm-up; medians; Chromium ${d.chromium}`,
    `hash ours ÷ WebCrypto read + digest: ${fmtRatio(r.vsWebcrypto.median)} (min ${
      fmtRatio(r.vsWebcrypto.min)
    }, max ${fmtRatio(r.vsWebcrypto.max)}); ÷ WebCrypto digest alone: ${
      fmtRatio(r.vsDigestOnly.median)
    } — ${d.mbPerS.ours.toFixed(0)} vs ${d.mbPerS.webcrypto.toFixed(0)} MB/s ` +
    `(digest alone ${d.mbPerS.webcryptoDigest.toFixed(0)}, stream read alone ${
      d.mbPerS.streamRead.toFixed(0)
    })`,
    `held after hashing: ${_realms(d.memory.realms.afterInspect)}`,
    `held after signing: ${_realms(d.memory.realms.afterSign)}`,
    `resident after GC, before the timed runs → after the last: ${
      _trend("renderer", d.memory.residentKiB.renderer)
    }, ${_trend("browser", d.memory.residentKiB.browser)}`,
    `checked: signed PDF ${d.check.signedPdfBytes} B (PAdES B-T, token ${d.check.genTime}) ` +
    `and .p7s ${d.check.p7sBytes} B valid`,
    `load average ${d.loadAverage.start.join(" ")} → ${d.loadAverage.end.join(" ")}`,
  ];
}
