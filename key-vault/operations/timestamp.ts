/**
 * `tsa.timestamp`: an RFC 3161 time-stamp token from the vault's TSA (key-vault/tsa.ts)
 * over a SHA-256 imprint, for the applet's document signatures (docs/documents.md). It
 * changes no state: serial numbers are random, and the token is not stored; the log
 * line records its serial, so an operator can find when it was made.
 *
 * @module
 */
import { b64uDecode, b64uEncode, toHex } from "../../protocol/mod.ts";
import { log } from "../../platform/mod.ts";
import { issueTimestamp } from "../tsa.ts";
import type { Handler } from "./context.ts";

export const tsaTimestamp: Handler<"tsa.timestamp"> = async (ctx, body) => {
  const { token, serial } = await issueTimestamp(
    ctx.vault.tsa,
    b64uDecode(body.imprint),
    ctx.now,
    body.nonce ? b64uDecode(body.nonce) : undefined,
  );
  log("info", "timestamp_issued", { serial: toHex(serial), client: ctx.clientTag });
  return {
    token: b64uEncode(token),
    genTime: new Date(Math.floor(ctx.now.getTime() / 1000) * 1000).toISOString(),
  };
};
