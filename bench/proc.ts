/**
 * What the load benchmarks read from Linux's /proc: CPU time, resident memory and the
 * children of a process.
 *
 * @module
 */

/** CPU milliseconds (user + system) of a process; 0 if it is gone. */
export function cpuMs(pid: number | "self"): number {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // 100 clock ticks per second
  } catch {
    return 0;
  }
}

/** Resident set size in KiB, or null if the process is gone. */
export function rssKiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Children of `ppid`, with their command lines. */
export function childrenOf(ppid: number): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (Number(stat.split(") ")[1].split(" ")[1]) !== ppid) continue;
      const cmdline = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      out.push({ pid: Number(e.name), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Starts a new peak-memory window for `pid`: the kernel's high-water mark of its resident
 * set (`VmHWM`) is reset to its current size (`/proc/<pid>/clear_refs`, value 5, Linux ≥
 * 4.0). Throws when the process is gone or not ours.
 */
export function resetPeakRss(pid: number): void {
  Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** The peak resident set (`VmHWM`, KiB) since the last {@link resetPeakRss}, or null. */
export function peakRssKiB(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The 1-, 5- and 15-minute load averages of the machine. */
export function loadAverage(): [number, number, number] {
  const [a, b, c] = Deno.readTextFileSync("/proc/loadavg").split(" ").map(Number);
  return [a, b, c];
}
