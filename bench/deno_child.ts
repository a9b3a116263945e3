/**
 * The Deno side of the benchmark, run as a child process by `main.ts` so that it
 * starts from a clean V8 heap: reads `{ config, inputs }` from the file named by
 * the first argument, writes the {@link RuntimeResult} JSON to the second, and
 * prints progress on stderr.
 *
 * @module
 */
import { decodeInputs } from "./inputs.ts";
import { loadOursInDeno } from "./ours_loader.ts";
import { runOperations } from "./runner.ts";
import type { RunConfig } from "./runner.ts";

if (import.meta.main) {
  const [inPath, outPath] = Deno.args;
  const { config, inputs } = JSON.parse(await Deno.readTextFile(inPath)) as {
    config: RunConfig;
    inputs: string;
  };
  const ours = await loadOursInDeno();
  const result = await runOperations(
    `deno ${Deno.version.deno}`,
    config,
    decodeInputs(inputs),
    ours,
    (line) => {
      console.error(`[bench:deno] ${line}`);
    },
  );
  await Deno.writeTextFile(outPath, JSON.stringify(result));
}
