/**
 * Messages between the page and the strength worker (`strength_worker.ts`). Pass phrases
 * travel as UTF-8 bytes in a transferred buffer, never as a string in a message, and the
 * receiver wipes them once read.
 *
 * @module
 */
import type { Verdict } from "./policy.ts";

/** Page → worker. */
export type StrengthCommand =
  | { id: number; type: "assess"; phrase: Uint8Array; userInputs: string[] }
  | { id: number; type: "suggest" };

/** Worker → page. `suggest` answers with the phrase's UTF-8 bytes (transferred). */
export type StrengthReply =
  | { id: number; ok: true; verdict: Verdict }
  | { id: number; ok: true; phrase: Uint8Array }
  | { id: number; ok: false; message: string };
