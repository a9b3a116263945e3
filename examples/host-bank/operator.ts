/**
 * The demo bank's `/readyz` (docs/operations.md): its ledger storage is readable and
 * writable, and the roamsign CA it checks signatures against is available (pinned with
 * `ROAMSIGN_CA_FILE`, or fetched from the directory's `/ca.pem`).
 *
 * @module
 */
import type { ReadinessCheck } from "../../platform/mod.ts";
import { loadCa } from "../verify/mod.ts";

/** Readiness checks of the bank. */
export function bankReadiness(options: {
  ledgerPath: string;
  directoryUrl: string;
  caPem?: string;
  fetch?: typeof fetch;
}): Record<string, ReadinessCheck> {
  const dir = options.ledgerPath.replace(/\/[^/]*$/, "") || ".";
  return {
    ledger: async () => {
      // The ledger is rewritten through a temporary file in its directory: probe both.
      try {
        await Deno.readTextFile(options.ledgerPath).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err; // first debit creates it
        });
        const probe = `${dir}/.readyz-${crypto.randomUUID()}`;
        await Deno.writeTextFile(probe, "", { mode: 0o600 });
        await Deno.remove(probe);
      } catch (err) {
        throw new Error(
          err instanceof Deno.errors.NotFound ? "ledger directory missing" : "ledger not writable",
        );
      }
    },
    // The bank checks every signature against the directory, so it is not ready without
    // it, pinned CA or not; with a pinned CA the directory must also serve that CA.
    ca: async () => {
      if (options.caPem) await loadCa(options.caPem);
      const f = options.fetch ?? fetch.bind(globalThis);
      let res: Response;
      try {
        res = await f(`${options.directoryUrl.replace(/\/+$/, "")}/ca.pem`, {
          signal: AbortSignal.timeout(2_500),
        });
      } catch {
        throw new Error("directory unreachable");
      }
      const text = await res.text();
      if (!res.ok) throw new Error(`directory answered HTTP ${res.status}`);
      try {
        await loadCa(text);
      } catch {
        throw new Error("directory's CA certificate does not parse");
      }
      if (options.caPem && text.trim() !== options.caPem.trim()) {
        throw new Error("directory serves another CA than the pinned one");
      }
    },
  };
}
