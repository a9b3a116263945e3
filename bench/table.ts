/**
 * Plain-text tables for stdout: one summary per runtime (median per implementation
 * and the ratio ours ÷ best peer), the low-power profile, the timing-leak check, the
 * host suites (vault, load, documents), the weight and the targets.
 *
 * @module
 */
import type { DudectResult } from "./dudect.ts";
import type { LowPowerResult } from "./lowpower.ts";
import type { VaultLoadResult } from "./vault_load.ts";
import { type LoadResult, loadText } from "./load.ts";
import { documentsNotes, type DocumentsResult, documentsRows } from "./documents_result.ts";
import { fmtMs, fmtRatio, isRuntime, mbPerS } from "./result.ts";
import type { BenchResult, Ok } from "./result.ts";
import type { ImplResult, OpResult } from "./runner.ts";

/** A text grid; the first column and the columns listed in `left` are left-aligned. */
function _grid(header: string[], rows: string[][], left: number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || left.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function _cell(r: ImplResult | undefined): string {
  if (!r) return "";
  if (r.status === "ok") return fmtMs(r.median) + (r.truncated ? "*" : "");
  return r.status === "n/a" ? "n/a" : "ERROR";
}

/** ours ÷ fastest other implementation with a figure ("" when either is missing). */
function _oursVsBest(op: OpResult): string {
  const ok = op.results.filter((r): r is Ok => r.status === "ok");
  const ours = ok.find((r) => r.impl === "ours");
  const others = ok.filter((r) => r.impl !== "ours");
  if (!ours || others.length === 0) return "";
  const best = others.reduce((a, b) => (b.median < a.median ? b : a));
  return `${fmtRatio(ours.median / best.median)} ${best.impl}`;
}

export function runtimeTable(ops: OpResult[]): string {
  const impls: string[] = [];
  for (const op of ops) for (const r of op.results) if (!impls.includes(r.impl)) impls.push(r.impl);
  const rows = ops.map((op) => {
    const extra = op.group === "sha" && op.bytes === 1048576
      ? (() => {
        const ours = op.results.find((r) => r.impl === "ours" && r.status === "ok") as
          | Ok
          | undefined;
        return ours ? ` (${mbPerS(op.bytes!, ours.median).toFixed(0)} MB/s)` : "";
      })()
      : "";
    return [
      op.id,
      ...impls.map((i) => _cell(op.results.find((r) => r.impl === i))),
      _oursVsBest(op) + extra,
    ];
  });
  return _grid(["operation (median per op)", ...impls, "ours ÷ fastest other"], rows);
}

function _lowPowerTable(lp: LowPowerResult): string {
  const out: string[] = [];
  const impls: string[] = [];
  for (const rate of lp.rates) {
    const s = lp.sign[rate];
    if (s && !("error" in s)) {
      for (const r of s.results) if (!impls.includes(r.impl)) impls.push(r.impl);
    }
  }
  out.push(_grid(
    ["RSA-2048 sign", "slowdown", ...impls],
    lp.rates.map((rate) => {
      const s = lp.sign[rate];
      const cells = s && !("error" in s)
        ? impls.map((i) => _cell(s.results.find((r) => r.impl === i)))
        : impls.map(() => "ERROR");
      return [`${rate}× throttling`, fmtRatio(lp.slowdown[rate] ?? NaN), ...cells];
    }),
  ));
  const providers: string[] = [];
  for (const rate of lp.rates) {
    for (const s of lp.start[rate] ?? []) if (!providers.includes(s.impl)) providers.push(s.impl);
  }
  out.push(_grid(
    ["applet start (load + init + import + first sign)", ...providers],
    lp.rates.map((rate) => [
      `${rate}× throttling`,
      ...providers.map((p) => {
        const s = lp.start[rate]?.find((x) => x.impl === p);
        return !s ? "" : s.status === "ok" ? fmtMs(s.median) : s.status === "n/a" ? "n/a" : "ERROR";
      }),
    ]),
  ));
  return out.join("\n\n");
}

function _dudectTable(d: DudectResult): string {
  return _grid(
    ["timing-leak target", "role", "n", "max |t|", "test", "flags ≥", "result"],
    d.targets.map((t) => [
      t.id,
      t.role,
      t.n?.toString() ?? "",
      t.max ? Math.abs(t.max.t).toFixed(2) : "",
      t.max?.test ?? "",
      t.detectableMs !== undefined ? fmtMs(t.detectableMs) : "",
      t.status !== "ok"
        ? `${t.status}: ${t.reason}`
        : `${t.flagged ? "LEAK" : "no leak"}${t.asExpected ? " (as expected)" : " (UNEXPECTED)"}`,
    ]),
    [1, 4, 6],
  ) + `\nverdict: ${d.verdict} — ${d.summary}`;
}

/** One row per load scenario: rate, latency percentiles, errors, CPU per request. */
export function vaultLoadRows(v: VaultLoadResult): { header: string[]; rows: string[][] } {
  return {
    header: [
      "scenario",
      "requests",
      "in flight",
      "req/s",
      "p50 ms",
      "p99 ms",
      "errors",
      "CPU ms/req",
    ],
    rows: v.scenarios.map((s) => [
      s.name,
      String(s.requests),
      String(s.concurrency),
      s.perSecond.toFixed(0),
      s.p50.toFixed(1),
      s.p99.toFixed(1),
      String(s.errors),
      s.cpuMsPerRequest
        ? Object.values(s.cpuMsPerRequest).reduce((a, b) => a + b, 0).toFixed(2)
        : "",
    ]),
  };
}

/** The whole stdout summary. */
export function summaryText(r: BenchResult): string {
  const parts: string[] = [];
  for (const name of ["chromium", "deno"] as const) {
    const rt = r.runtimes[name];
    if (!rt) continue;
    if (!isRuntime(rt)) {
      parts.push(`== ${name}: ERROR ${rt.error}`);
      continue;
    }
    const errors = rt.operations.flatMap((o) =>
      o.results.filter((x) => x.status === "error").map((x) =>
        `  ${o.id} ${x.impl}: ${"error" in x ? x.error : ""}`
      )
    );
    parts.push(
      `== ${rt.runtime} (ours: ${
        rt.ours.available ? "yes" : `unavailable — ${rt.ours.reason}`
      })\n` +
        runtimeTable(rt.operations) + (errors.length ? `\nerrors:\n${errors.join("\n")}` : ""),
    );
  }
  const lp = r.suites.lowpower;
  if (lp) {
    parts.push(
      `== low-power profile (Chromium, CDP CPU throttling)\n${
        "error" in lp ? `ERROR ${lp.error}` : _lowPowerTable(lp)
      }`,
    );
  }
  const dd = r.suites.dudect;
  if (dd) {
    parts.push(
      `== timing-leak check (dudect, Deno)\n${
        "error" in dd ? `ERROR ${dd.error}` : _dudectTable(dd)
      }`,
    );
  }
  const vl = r.suites.vault as VaultLoadResult | { error: string } | undefined;
  if (vl) {
    const t = "error" in vl ? undefined : vaultLoadRows(vl);
    parts.push(
      `== vault load (proxy + vault, PostgreSQL)\n${
        t ? _grid(t.header, t.rows) : `ERROR ${(vl as { error: string }).error}`
      }`,
    );
  }
  const ld = r.suites.load as LoadResult | { error: string } | { skipped: string } | undefined;
  if (ld) {
    parts.push(
      `== load (simulated users against deno task start, PostgreSQL)\n${
        "kind" in ld
          ? loadText(ld)
          : "skipped" in ld
          ? `skipped: ${ld.skipped}`
          : `ERROR ${ld.error}`
      }`,
    );
  }
  const doc = r.suites.documents as DocumentsResult | { error: string } | undefined;
  if (doc) {
    const t = "error" in doc ? undefined : documentsRows(doc);
    parts.push(
      `== documents (issue 17: sign a 10 MiB PDF in the applet page, Chromium)\n${
        t
          ? `${_grid(t.header, t.rows, [4])}\n${documentsNotes(doc as DocumentsResult).join("\n")}`
          : `ERROR ${(doc as { error: string }).error}`
      }`,
    );
  }
  const w = r.weight;
  const size = (
    s: typeof w.wasm,
  ) => ("unavailable" in s ? `— (${s.unavailable})` : `${s.gzipBytes} B gzipped, ${s.bytes} B raw`);
  parts.push(
    `== applet weight\nwasm module:          ${size(w.wasm)}\nwasm-crypto JS (min): ${
      size(w.wrapperJs)
    }\napplet JS:            ${size(w.appletJs)}\napplet, first load:   ${
      w.appletStart ? size(w.appletStart) : "— (not in this result)"
    }\napplet, all files:    ${size(w.appletTotal)} (with the workers loaded on demand)`,
  );
  parts.push(
    `== targets (issues 4 and 20: Chromium figures of this run; issue 3: vault suite; issue 20: load suite)\n` +
      _grid(
        ["target", "status", "figures"],
        r.targets.map((t) => [t.target, t.status.toUpperCase(), t.figures]),
        [1, 2],
      ),
  );
  if (r.problems.length) parts.push(`== PROBLEMS\n${r.problems.map((p) => `- ${p}`).join("\n")}`);
  return parts.join("\n\n");
}
