/**
 * `bench/results/report.html`: one self-contained page (tables in HTML, charts by an
 * inline bundle of chart.js, the run's JSON embedded), readable offline.
 *
 * @module
 */
import { BUILD_DIR, bundle } from "./bundle.ts";
import type { DudectResult } from "./dudect.ts";
import type { LowPowerResult } from "./lowpower.ts";
import { vaultLoadRows } from "./table.ts";
import type { VaultLoadResult } from "./vault_load.ts";
import type { LoadResult } from "./load.ts";
import { documentsNotes, type DocumentsResult, documentsRows } from "./documents_result.ts";
import { fmtMs, fmtRatio, isRuntime, mbPerS, reference } from "./result.ts";
import type { BenchResult, Ok } from "./result.ts";
import type { OpResult, RuntimeResult } from "./runner.ts";
import type { Sized } from "./weight.ts";

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const GROUPS: { id: OpResult["group"]; title: string }[] = [
  { id: "sign", title: "RSA signatures (PKCS#1 v1.5 and PSS, SHA-256)" },
  { id: "oaep", title: "RSA-OAEP (SHA-256)" },
  { id: "keygen", title: "RSA key generation" },
  { id: "modpow", title: "Modular exponentiation" },
  { id: "sha", title: "Hashes" },
];

interface Bar {
  label: string;
  kind: string;
  median: number;
  min: number;
  max: number;
  note: string;
}

function _bars(op: OpResult): Bar[] {
  const ref = reference(op);
  return op.results.filter((r): r is Ok => r.status === "ok").map((r) => ({
    label: r.impl,
    kind: r.kind,
    median: r.median,
    min: r.min,
    max: r.max,
    note: fmtMs(r.median) +
      (ref && r.impl !== ref.impl
        ? ` · ${ref.impl} ÷ this = ${fmtRatio(ref.median / r.median)}`
        : ref
        ? " · reference"
        : "") +
      (op.bytes && op.bytes >= 1024 ? ` · ${mbPerS(op.bytes, r.median).toFixed(0)} MB/s` : ""),
  }));
}

function _chart(bars: Bar[]): string {
  if (bars.length === 0) return "<p><em>no figures</em></p>";
  return `<div class="chart"><canvas data-bars="${esc(JSON.stringify(bars))}"></canvas></div>`;
}

function _opTable(op: OpResult): string {
  const ref = reference(op);
  const rows = op.results.map((r) => {
    const cls = r.kind === "ours" ? ' class="ours"' : "";
    if (r.status !== "ok") {
      const why = r.status === "n/a" ? r.reason : r.error;
      return `<tr${cls}><td>${esc(r.impl)}</td><td colspan="5" class="${
        r.status === "error" ? "bad" : "muted"
      }">${esc(r.status)}: ${esc(why)}</td><td>${esc(r.label)}</td></tr>`;
    }
    const ratio = ref && ref.impl !== r.impl ? fmtRatio(ref.median / r.median) : "—";
    const thr = op.bytes ? ` · ${mbPerS(op.bytes, r.median).toFixed(1)} MB/s` : "";
    return `<tr${cls}><td>${esc(r.impl)}</td><td>${fmtMs(r.median)}${thr}</td><td>${
      fmtMs(r.min)
    }</td><td>${fmtMs(r.max)}</td><td>${r.n} × ${r.iterations}${
      r.truncated ? " (budget)" : ""
    }</td><td>${ratio}</td><td>${esc(r.label)}</td></tr>`;
  });
  return `<table><thead><tr><th>implementation</th><th>median</th><th>min</th><th>max</th><th>samples × calls</th><th>${
    ref ? esc(ref.impl) : "ref"
  } ÷ this</th><th>library</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function _runtime(rt: RuntimeResult): string {
  const parts = [
    `<p class="muted">${esc(rt.userAgent)} · cross-origin isolated: ${
      esc(rt.crossOriginIsolated ?? "n/a")
    } · timer step ${fmtMs(rt.timerResolutionMs)} · ours: ${
      rt.ours.available ? "yes" : esc(`unavailable — ${rt.ours.reason}`)
    } · ${(rt.durationMs / 1000).toFixed(0)} s</p>`,
  ];
  for (const g of GROUPS) {
    const ops = rt.operations.filter((o) => o.group === g.id);
    if (ops.length === 0) continue;
    parts.push(`<h3>${esc(g.title)}</h3>`);
    for (const op of ops) {
      parts.push(
        `<h4 id="${esc(rt.runtime.split(" ")[0])}-${esc(op.id)}">${esc(op.title)}</h4>`,
        _chart(_bars(op)),
        _opTable(op),
      );
    }
  }
  return parts.join("\n");
}

function _lowPower(lp: LowPowerResult): string {
  const parts = [
    `<p>Measured slowdown of a fixed JavaScript loop: ${
      lp.rates.map((r) => `${r}× → ${fmtRatio(lp.slowdown[r] ?? NaN)}`).join(", ")
    }.</p>`,
  ];
  for (const rate of lp.rates) {
    const s = lp.sign[rate];
    parts.push(`<h4>RSA-2048 PKCS#1 v1.5 sign at ${rate}× CPU throttling</h4>`);
    parts.push(
      !s
        ? ""
        : "error" in s
        ? `<p class="bad">${esc(s.error)}</p>`
        : _chart(_bars(s)) + _opTable(s),
    );
  }
  for (const rate of lp.rates) {
    const list = lp.start[rate] ?? [];
    parts.push(
      `<h4>Applet start at ${rate}× CPU throttling (load module + init + import key + first signature)</h4>`,
    );
    const ok = list.filter((x) => x.status === "ok") as Extract<
      typeof list[number],
      { status: "ok" }
    >[];
    const ref = ok.find((x) => x.impl === "ours") ?? ok.find((x) => x.impl === "webcrypto");
    parts.push(_chart(ok.map((x) => ({
      label: x.impl,
      kind: x.kind,
      median: x.median,
      min: x.min,
      max: x.max,
      note: `${fmtMs(x.median)}${
        ref && ref !== x
          ? ` · ${ref.impl} ÷ this = ${fmtRatio(ref.median / x.median)}`
          : ref
          ? " · reference"
          : ""
      } · ${(x.bundleGzipBytes / 1024).toFixed(1)} KiB gz`,
    }))));
    const rows = list.map((x) =>
      x.status === "ok"
        ? `<tr${x.kind === "ours" ? ' class="ours"' : ""}><td>${esc(x.impl)}</td><td>${
          fmtMs(x.median)
        }</td><td>${fmtMs(x.min)}</td><td>${fmtMs(x.max)}</td><td>${x.n}</td><td>${
          Object.entries(x.phases).map(([k, v]) => `${esc(k)} ${fmtMs(v)}`).join(" · ")
        }</td><td>${x.bundleGzipBytes}</td><td>${esc(x.label)}</td></tr>`
        : `<tr><td>${esc(x.impl)}</td><td colspan="7" class="${
          x.status === "error" ? "bad" : "muted"
        }">${esc(x.status)}: ${esc(x.status === "error" ? x.error : x.reason)}</td></tr>`
    );
    parts.push(
      `<table><thead><tr><th>provider</th><th>median</th><th>min</th><th>max</th><th>n</th><th>phases (medians)</th><th>bundle gz B</th><th>what</th></tr></thead><tbody>${
        rows.join("")
      }</tbody></table>`,
    );
  }
  return parts.join("\n");
}

function _dudect(d: DudectResult): string {
  const rows = d.targets.map((t) =>
    `<tr class="${t.role === "ours" ? "ours" : ""}"><td>${esc(t.id)}</td><td>${
      esc(t.title)
    }</td><td>${esc(t.role)}</td><td>${t.n ?? ""}</td><td>${
      t.max ? Math.abs(t.max.t).toFixed(2) : ""
    }</td><td>${esc(t.max?.test ?? "")}</td><td>${
      t.medianFixed !== undefined ? `${fmtMs(t.medianFixed)} / ${fmtMs(t.medianRandom!)}` : ""
    }</td><td>${t.detectableMs !== undefined ? fmtMs(t.detectableMs) : ""}</td><td class="${
      t.status !== "ok" ? "muted" : t.asExpected ? "good" : "bad"
    }">${
      t.status !== "ok"
        ? esc(`${t.status}: ${t.reason}`)
        : `${t.flagged ? "leak" : "no leak"}${t.asExpected ? " (as expected)" : " (UNEXPECTED)"}`
    }</td></tr>`
  );
  return `<p><strong>Verdict: ${esc(d.verdict)}</strong> — ${
    esc(d.summary)
  }. Threshold |t| &gt; ${d.threshold}; ${d.config.samples} samples per target (controls stop early once |t| &gt; 20).</p>
<table><thead><tr><th>target</th><th>what</th><th>role</th><th>n</th><th>max |t|</th><th>test</th><th>median fixed / random</th><th>smallest flagged Δmean</th><th>result</th></tr></thead><tbody>${
    rows.join("")
  }</tbody></table>`;
}

function _size(s: Sized): string {
  return "unavailable" in s
    ? `<td colspan="2" class="muted">${esc(s.unavailable)}</td>`
    : `<td>${s.gzipBytes}</td><td>${s.bytes}</td>`;
}

function _parts(s: Sized): string {
  if ("unavailable" in s || !s.parts) return "";
  return s.parts.map((p) =>
    `<tr class="muted"><td>&nbsp;&nbsp;${
      esc(p.role)
    }</td><td>${p.gzipBytes}</td><td>${p.bytes}</td></tr>`
  )
    .join("");
}

function _rows(header: string[], rows: (string | number)[][]): string {
  return `<table><thead><tr>${
    header.map((h) => `<th>${esc(h)}</th>`).join("")
  }</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join("")}</tr>`).join("")
  }</tbody></table>`;
}

function _load(l: LoadResult): string {
  const mib = (v: number | null) => (v === null ? "—" : (v / 1024).toFixed(1));
  const targets =
    `<table><thead><tr><th>target (issues 7, 20)</th><th>status</th><th>figures</th></tr></thead><tbody>${
      l.targets.map((t) =>
        `<tr><td>${esc(t.target)}</td><td class="${
          t.status === "met" ? "good" : t.status === "inconclusive" ? "muted" : "bad"
        }">${
          t.status === "met" ? "met" : t.status === "inconclusive" ? "inconclusive" : "NOT met"
        }</td><td>${esc(t.figures)}</td></tr>`
      ).join("")
    }</tbody></table>`;
  return [
    `<p><strong>${l.perSecond.journeys}</strong> journeys/s (${l.journeys} in ${l.config.seconds} s after ${l.config.warmupSeconds} s warm-up), sign-ins/s ${l.perSecond.logins}, verified submissions/s ${l.perSecond.submissions}, errors <strong>${l.errors}</strong>; ${l.config.concurrency} in flight, ${l.config.users} users, ${l.config.workers} generator workers, log level ${
      esc(l.config.logLevel)
    }.</p>`,
    targets,
    _rows(
      ["latency (ms)", "n", "p50", "p90", "p99", "max"],
      (["journey", "session", "signIn", "submit", "close"] as const).map((k) => {
        const x = l.latency[k];
        return [k, x.n, x.p50, x.p90, x.p99, x.max];
      }),
    ),
    _rows(
      [
        "process",
        "CPU ms / journey",
        "cores used",
        "RSS after warm-up MiB",
        "RSS at end MiB",
        "RSS peak MiB",
        "RSS every 5 s MiB",
        "live heap after each full GC MB (committed)",
      ],
      [
        ...l.processes.map((p) => [
          p.name,
          p.cpuMsPerJourney,
          p.cores,
          mib(p.rssBeforeKiB),
          mib(p.rssAfterKiB),
          mib(p.rssPeakKiB),
          (p.rssSeriesKiB ?? []).map(mib).join(" "),
          p.liveHeapAfterGcMb?.length
            ? `${p.liveHeapAfterGcMb.join(" ")} (${p.committedHeapMb})`
            : "",
        ]),
        [
          "server total",
          l.serverCpuMsPerJourney,
          "",
          `→ ≈ ${l.serverBoundPerSecondOn2Cores} journeys/s on 2 idle cores`,
          "",
          "",
          "",
          "",
        ],
        [
          "generator (this process)",
          l.generator.cpuMsPerJourney,
          l.generator.cores,
          "",
          "",
          "",
          "",
          "",
        ],
      ],
    ),
    `<p>Audit: ${l.audit.present} of ${l.audit.expected} expected rows present (lost ${l.audit.lost}); chain ${
      l.audit.chainOk ? "verifies" : "<span class=bad>BROKEN</span>"
    } (${l.audit.chainRows} rows, ${l.audit.unsealed} unsealed).</p>`,
    l.errorList.length
      ? `<ul class="bad">${
        l.errorList.map((e) => `<li>${esc(`${e.step} ${e.identity}: ${e.code} ${e.message}`)}</li>`)
          .join("")
      }</ul>`
      : "",
    ...l.notes.map((n) => `<p class="muted">${esc(n)}</p>`),
  ].join("\n");
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.good,td.bad,td.muted{white-space:nowrap}tr.ours td{background:#fff1ec;font-weight:600}
.good{color:#1a7f37;font-weight:700}.bad{color:#c62828;font-weight:700}.muted{color:#777}
.chart{position:relative;width:100%;min-height:80px}
code{background:#f4f4f4;padding:0 3px}`;

export async function renderReport(r: BenchResult): Promise<string> {
  const js = new TextDecoder().decode(
    await bundle(
      new URL("report_client.ts", import.meta.url),
      new URL("report_client.js", BUILD_DIR),
      { minify: true },
    ),
  );
  const targets = r.targets.map((t) =>
    `<tr><td>${esc(t.target)}</td><td class="${
      t.status === "met" ? "good" : t.status === "not met" ? "bad" : "muted"
    }">${esc(t.status)}</td><td>${esc(t.figures)}</td></tr>`
  ).join("");
  const sections: string[] = [];
  for (const name of ["chromium", "deno"] as const) {
    const rt = r.runtimes[name];
    if (!rt) continue;
    sections.push(`<h2>${name === "chromium" ? "Chromium" : "Deno"}</h2>`);
    sections.push(isRuntime(rt) ? _runtime(rt) : `<p class="bad">${esc(rt.error)}</p>`);
  }
  const lp = r.suites.lowpower;
  if (lp) {
    sections.push(
      `<h2>Low-power profile (Chromium, CDP CPU throttling)</h2>`,
      "error" in lp ? `<p class="bad">${esc(lp.error)}</p>` : _lowPower(lp),
    );
  }
  const dd = r.suites.dudect;
  if (dd) {
    sections.push(
      `<h2>Timing-leak check (dudect, Deno)</h2>`,
      "error" in dd ? `<p class="bad">${esc(dd.error)}</p>` : _dudect(dd),
    );
  }
  sections.push(
    `<h2>Applet weight</h2><table><thead><tr><th>what</th><th>gzip -9 bytes</th><th>raw bytes</th></tr></thead><tbody>
<tr class="ours"><td>wasm module</td>${_size(r.weight.wasm)}</tr>
<tr><td>wasm-crypto JS wrapper (bundled, minified)</td>${_size(r.weight.wrapperJs)}</tr>
<tr><td>applet JS (page + worker)</td>${_size(r.weight.appletJs)}</tr>
${
      r.weight.appletStart
        ? `<tr><td>applet, first load (without the workers loaded on demand)</td>${
          _size(r.weight.appletStart)
        }</tr>${_parts(r.weight.appletStart)}`
        : ""
    }<tr><td>applet, every file it can download</td>${_size(r.weight.appletTotal)}</tr>${
      _parts(r.weight.appletTotal)
    }</tbody></table>`,
  );
  const vl = r.suites.vault as VaultLoadResult | { error: string } | undefined;
  if (vl) {
    sections.push(`<h2>Vault load (proxy + vault, PostgreSQL)</h2>`);
    if ("error" in vl) sections.push(`<p class="bad">${esc(vl.error)}</p>`);
    else {
      const t = vaultLoadRows(vl);
      sections.push(
        `<table><thead><tr>${
          t.header.map((h) => `<th>${esc(h)}</th>`).join("")
        }</tr></thead><tbody>${
          t.rows.map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")
        }</tbody></table>${vl.notes.map((n) => `<p class="muted">${esc(n)}</p>`).join("")}`,
      );
    }
  }
  const ld = r.suites.load as LoadResult | { error: string } | { skipped: string } | undefined;
  if (ld) {
    sections.push(
      `<h2>Load: simulated users against <code>deno task start</code> (PostgreSQL)</h2>`,
    );
    if ("kind" in ld) sections.push(_load(ld));
    else if ("skipped" in ld) sections.push(`<p class="muted">skipped: ${esc(ld.skipped)}</p>`);
    else sections.push(`<p class="bad">${esc(ld.error)}</p>`);
  }
  const doc = r.suites.documents as DocumentsResult | { error: string } | undefined;
  if (doc) {
    sections.push(`<h2>Documents: sign a 10 MiB PDF in the applet page (Chromium, issue 17)</h2>`);
    if ("error" in doc) sections.push(`<p class="bad">${esc(doc.error)}</p>`);
    else {
      const t = documentsRows(doc);
      sections.push(
        _rows(t.header, t.rows),
        ...documentsNotes(doc).map((n) => `<p class="muted">${esc(n)}</p>`),
      );
    }
  }
  const shown = ["lowpower", "dudect", "vault", "load", "documents"];
  for (const [id, s] of Object.entries(r.suites)) {
    if (shown.includes(id)) continue;
    sections.push(`<h2>Suite ${esc(id)}</h2><pre>${esc(JSON.stringify(s, null, 2))}</pre>`);
  }
  if (r.problems.length) {
    sections.push(
      `<h2 class="bad">Problems</h2><ul>${
        r.problems.map((p) => `<li>${esc(p)}</li>`).join("")
      }</ul>`,
    );
  }
  const data = JSON.stringify(r).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>roamsign benchmark ${esc(r.startedAt)}</title><style>${CSS}</style></head><body>
<h1>roamsign wasm-crypto benchmark</h1>
<p class="muted">${esc(r.startedAt)} · <code>${esc(r.command)}</code> · commit ${
    esc(r.env.commit)
  }${r.env.dirty ? " (dirty)" : ""} · ${esc(r.env.cpu)}, ${r.env.cores} cores · Deno ${
    esc(r.env.deno)
  } (V8 ${esc(r.env.v8)}) · Chromium ${esc(r.env.chromium ?? "not run")} · ${
    (r.durationMs / 1000).toFixed(0)
  } s · ours: ${
    r.ours.built ? `wasm ${esc(r.ours.wasmSha256 ?? "")}` : esc(r.ours.unavailable ?? "absent")
  }</p>
<p><strong>How to read.</strong> Every figure is the median time of one operation over many interleaved rounds, with min and max
(whiskers). Bars are on a log scale; <span style="color:#e4572e;font-weight:700">ours</span> is highlighted. The ratio printed on a
bar is <em>reference ÷ this</em> (reference = ours, or WebCrypto when ours is absent): above 1× that implementation is faster than
ours, below 1× slower. All ratios come from one page in one run, so machine noise mostly cancels; absolute times on a shared
machine do not. See <code>docs/benchmarks.md</code>.</p>
<h2>Targets (issue 4: Chromium; issue 3: vault suite)</h2>
<table><thead><tr><th>target</th><th>status</th><th>figures</th></tr></thead><tbody>${targets}</tbody></table>
${sections.join("\n")}
<script type="application/json" id="bench-data">${data}</script>
<script type="module">${js.replace(/<\/script/gi, "<\\/script")}</script>
</body></html>
`;
}

export async function writeReport(r: BenchResult, url: URL): Promise<void> {
  await Deno.writeTextFile(url, await renderReport(r));
}
