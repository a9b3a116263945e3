/**
 * Charts of report.html, drawn in the browser from the run's JSON embedded in the
 * page. Bundled with chart.js into one inline script, so the report opens offline.
 *
 * Each `<canvas data-bars="…">` names a JSON array of bars
 * `{ label, kind, median, min, max, note }`; one horizontal bar chart per canvas,
 * log-scale axis, whiskers from min to max, the median and the ratio printed at the
 * end of each bar, "ours" in its own colour.
 *
 * @module
 */
/// <reference lib="dom" />
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LogarithmicScale,
  Tooltip,
} from "chart.js";
import type { Plugin, TooltipItem } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LogarithmicScale, Tooltip);

interface Bar {
  label: string;
  kind: string;
  median: number;
  min: number;
  max: number;
  note: string;
}

const COLOURS: Record<string, string> = {
  ours: "#e4572e",
  native: "#7d8597",
  js: "#3a86ff",
  wasm: "#2a9d8f",
};

const whiskersAndLabels: Plugin<"bar"> = {
  id: "whiskersAndLabels",
  afterDatasetsDraw(chart) {
    const bars = (chart.config.options as unknown as { _bars: Bar[] })._bars;
    const x = chart.scales.x;
    const ctx = chart.ctx;
    const meta = chart.getDatasetMeta(0);
    ctx.save();
    meta.data.forEach((el, i) => {
      const b = bars[i];
      const y = (el as unknown as { y: number }).y;
      const x0 = x.getPixelForValue(b.min);
      const x1 = x.getPixelForValue(b.max);
      ctx.strokeStyle = "#222";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x0, y);
      ctx.lineTo(x1, y);
      ctx.moveTo(x0, y - 4);
      ctx.lineTo(x0, y + 4);
      ctx.moveTo(x1, y - 4);
      ctx.lineTo(x1, y + 4);
      ctx.stroke();
      ctx.fillStyle = b.kind === "ours" ? COLOURS.ours : "#222";
      ctx.font = `${b.kind === "ours" ? "bold " : ""}12px system-ui, sans-serif`;
      ctx.textBaseline = "middle";
      ctx.fillText(b.note, Math.max(x1, x.getPixelForValue(b.median)) + 6, y);
    });
    ctx.restore();
  },
};

/** Label only powers of ten, in ms / µs / s. */
function _decade(v: number): string {
  const l = Math.log10(v);
  if (Math.abs(l - Math.round(l)) > 1e-9) return "";
  if (v >= 1000) return `${v / 1000} s`;
  if (v >= 1) return `${v} ms`;
  return `${+(v * 1000).toPrecision(3)} µs`;
}

function _draw(canvas: HTMLCanvasElement, bars: Bar[]): void {
  const lo = Math.min(...bars.map((b) => b.min));
  const hi = Math.max(...bars.map((b) => b.max));
  const wrapper = canvas.parentElement!;
  wrapper.style.height = `${40 + bars.length * 30}px`;
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: bars.map((b) => b.label),
      datasets: [{
        data: bars.map((b) => b.median),
        backgroundColor: bars.map((b) => COLOURS[b.kind] ?? "#999"),
        borderColor: bars.map((b) => (b.kind === "ours" ? "#8c2a10" : "transparent")),
        borderWidth: bars.map((b) => (b.kind === "ours" ? 2 : 0)),
        barPercentage: 0.8,
      }],
    },
    options: {
      indexAxis: "y",
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: {
          type: "logarithmic",
          min: Math.pow(10, Math.floor(Math.log10(lo))),
          max: Math.pow(10, Math.ceil(Math.log10(hi)) + 1),
          ticks: {
            autoSkip: false,
            maxRotation: 0,
            callback: (v: string | number) => _decade(Number(v)),
          },
          title: {
            display: true,
            text: "ms per operation (log scale; bar = median, whisker = min…max)",
          },
        },
        y: { ticks: { font: { weight: "bold" } } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (c: TooltipItem<"bar">) => {
              const b = bars[c.dataIndex];
              return `median ${b.median} ms, min ${b.min}, max ${b.max}`;
            },
          },
        },
      },
      _bars: bars,
    } as never,
    plugins: [whiskersAndLabels],
  });
}

for (const canvas of document.querySelectorAll<HTMLCanvasElement>("canvas[data-bars]")) {
  try {
    _draw(canvas, JSON.parse(canvas.dataset.bars!) as Bar[]);
  } catch (e) {
    canvas.replaceWith(document.createTextNode(`chart failed: ${(e as Error).message}`));
  }
}
