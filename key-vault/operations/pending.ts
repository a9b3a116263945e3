/**
 * The pending key record (docs/lifecycle.md, "Pending key record"): what a sign-in that
 * releases one expects back, and `login.confirm`, which makes it current.
 *
 * A `registration.update` stores its record and registration data as pending
 * (key-vault/operations/lifecycle.ts). The vault cannot tell whether that record opens;
 * the owner's applet can, after a sign-in. So the sign-in that releases the pending
 * record records the SHA-256 of the MAC a confirmation must carry (protocol/
 * pending_record.ts: HMAC under the login's OPAQUE session key, which only the vault
 * and the party that knew the pass phrase share), and `login.confirm` with that MAC
 * promotes the pending record and data. A thief at a signed-in applet (no pass phrase)
 * cannot sign in, so cannot confirm; a relaying web server never sees the session key.
 *
 * @module
 */
import { b64uDecode, pendingConfirmMac } from "../../protocol/mod.ts";
import { ApiError } from "../../platform/mod.ts";
import { sha256, timingSafeEqual } from "../crypto.ts";
import * as repo from "../repositories/mod.ts";
import {
  audit,
  type Handler,
  inTransaction,
  lockActive,
  type OpContext,
  registrationOf,
} from "./context.ts";
import { hex } from "./idempotency.ts";

/**
 * After a sign-in of `identity` that released `pendingRecord`: records what its
 * `login.confirm` must carry, for as long as a login attempt lives. Only the hash of the
 * expected MAC is stored, so a database reader cannot confirm.
 */
export async function expectConfirm(
  ctx: OpContext,
  identity: string,
  loginId: string,
  pendingRecord: string,
  sessionKey: string,
): Promise<void> {
  const mac = await pendingConfirmMac(sessionKey, identity, loginId, pendingRecord);
  const expiresAt = new Date(ctx.now.getTime() + ctx.vault.config.loginTtlMs);
  await repo.expectPendingConfirm(
    ctx.vault.db,
    identity,
    pendingRecord,
    hex(await sha256(mac)),
    expiresAt,
  );
  mac.fill(0);
}

/**
 * `login.confirm`: the applet opened the pending record released by its sign-in. With
 * the expected MAC the pending record and registration data become current (one
 * transaction, audited `promoted`); otherwise `confirm_invalid` and nothing changes.
 */
export const loginConfirm: Handler<"login.confirm"> = async (ctx, body) => {
  const identity = body.identity;
  return await inTransaction(ctx, async (tx) => {
    await lockActive(tx, identity);
    const row = await repo.lockPendingRecord(tx, identity);
    const expected = row?.pending_confirm ?? "";
    const live = !!row?.pending_confirm_expires_at &&
      new Date(row.pending_confirm_expires_at) > ctx.now;
    const given = new TextEncoder().encode(hex(await sha256(b64uDecode(body.mac))));
    const matches = expected.length === 64 &&
      timingSafeEqual(given, new TextEncoder().encode(expected));
    if (!row?.pending_record || !row.pending_registration || !live || !matches) {
      throw new ApiError(
        403,
        "confirm_invalid",
        "no pending key record to confirm for this sign-in: sign in again",
      );
    }
    const registration = registrationOf(JSON.parse(row.pending_registration));
    if (registration.identity !== identity) {
      throw new Error("vault: pending data of another identity");
    }
    await repo.updateRegistration(tx, registration, ctx.now);
    await repo.promotePendingRecord(tx, identity, row.pending_record, ctx.now);
    await audit(tx, ctx, "login.confirm", identity, "promoted");
    return { status: "current" };
  });
};
