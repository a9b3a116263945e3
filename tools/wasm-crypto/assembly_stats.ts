/**
 * Shape of the AssemblyScript core: lines per file, the import graph and its
 * cycles, and the longest functions (issue 13).
 *
 *   deno run --allow-read tools/wasm-crypto/assembly_stats.ts [DIR] [--top N]
 *
 * DIR defaults to `wasm-crypto/assembly/` (experiments and subfolders are not
 * counted). A function is measured from its `function` line to the first line
 * that is a lone `}` at column 0.
 *
 * @module
 */

const args = [...Deno.args];
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 8;
const dir = args[0] ?? new URL("../../wasm-crypto/assembly/", import.meta.url).pathname;

const files = new Map<string, string[]>();
for await (const e of Deno.readDir(dir)) {
  if (e.isFile && e.name.endsWith(".ts")) {
    files.set(
      e.name.replace(/\.ts$/, ""),
      (await Deno.readTextFile(`${dir}/${e.name}`)).split("\n"),
    );
  }
}
const names = [...files.keys()].sort();

console.log("lines per file:");
let total = 0;
for (const n of names) {
  const lines = files.get(n)!.length - 1;
  total += lines;
  console.log(`  ${String(lines).padStart(5)}  ${n}.ts`);
}
console.log(`  ${String(total).padStart(5)}  total`);

// import graph: `from "./x"` (the multi-line import blocks end on that line)
const graph = new Map<string, string[]>();
for (const n of names) {
  const deps = new Set<string>();
  for (const line of files.get(n)!) {
    const m = line.match(/from\s+"\.\/([\w/]+)"/);
    if (m && files.has(m[1])) deps.add(m[1]);
  }
  graph.set(n, [...deps].sort());
}
console.log("\nimports:");
for (const n of names) console.log(`  ${n} -> ${graph.get(n)!.join(", ") || "(none)"}`);

// cycles: every elementary cycle found by DFS from each node (small graph)
const cycles = new Set<string>();
function walk(start: string, node: string, path: string[]) {
  for (const d of graph.get(node)!) {
    if (d === start) {
      const c = [...path];
      const i = c.indexOf(c.reduce((a, b) => (a < b ? a : b)));
      cycles.add([...c.slice(i), ...c.slice(0, i)].join(" -> "));
    } else if (!path.includes(d)) walk(start, d, [...path, d]);
  }
}
for (const n of names) walk(n, n, [n]);
console.log(`\nimport cycles: ${cycles.size}`);
for (const c of cycles) console.log(`  ${c} -> (back)`);

// longest functions
const fns: { name: string; lines: number }[] = [];
for (const n of names) {
  const lines = files.get(n)!;
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^(?:export\s+)?function\s+(\w+)/);
    if (!m) continue;
    let j = i;
    while (j < lines.length && lines[j] !== "}") j++;
    fns.push({ name: `${n}.ts ${m[1]}`, lines: j - i + 1 });
  }
}
fns.sort((a, b) => b.lines - a.lines);
console.log(`\nlongest functions (of ${fns.length}):`);
for (const f of fns.slice(0, top)) console.log(`  ${String(f.lines).padStart(5)}  ${f.name}`);
