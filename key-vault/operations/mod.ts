/**
 * The vault operations of docs/architecture.md: every operation's handler in one
 * dispatch table, and `runOperation`. Each state change is one transaction with its
 * audit row; a failure anywhere rolls all of it back. Results that must persist
 * although the request fails (a wrong consent phrase, a failed login) commit first
 * and then report the error.
 *
 * The vault stores what the applet sends: the key record is `E_KEK(SKu ‖ hash)` made in
 * the browser; the vault only wraps it once more under the consent phrase until consent.
 *
 * @module
 */
import type { OpBody, OpName } from "../../platform/mod.ts";
import { consumeRpcNonce, type Handler, type OpContext } from "./context.ts";
import { caGet, caIssueServer, crlGet, directoryGet, directoryHistory } from "./directory.ts";
import { registrationUpdate, reregister, revoke } from "./lifecycle.ts";
import { loginFinish, loginStart, nonceConsume } from "./login.ts";
import { loginConfirm } from "./pending.ts";
import {
  adminAudit,
  adminAuditVerify,
  adminConsentReset,
  adminLetters,
  adminLettersSent,
  adminPending,
  adminRevoke,
  adminUsers,
} from "./operator.ts";
import { applicationGet, apply, consent, registerStart } from "./registration.ts";
import {
  keyrecordUpgrade,
  passkeyList,
  passkeyLoginFinish,
  passkeyLoginStart,
  passkeyRegisterFinish,
  passkeyRegisterStart,
  passkeyRemove,
} from "./passkeys.ts";
import { tsaTimestamp } from "./timestamp.ts";

export type { OpContext } from "./context.ts";
export { IDEMPOTENCY_RETENTION_MS, pruneIdempotencyKeys } from "./idempotency.ts";

/** Every operation's handler. */
export const HANDLERS: { [N in OpName]: Handler<N> } = {
  "register.start": registerStart,
  apply,
  "application.get": applicationGet,
  consent,
  "login.start": loginStart,
  "login.finish": loginFinish,
  "login.confirm": loginConfirm,
  "registration.update": registrationUpdate,
  reregister,
  revoke,
  "passkey.register.start": passkeyRegisterStart,
  "passkey.register.finish": passkeyRegisterFinish,
  "passkey.login.start": passkeyLoginStart,
  "passkey.login.finish": passkeyLoginFinish,
  "passkey.list": passkeyList,
  "passkey.remove": passkeyRemove,
  "keyrecord.upgrade": keyrecordUpgrade,
  "admin.revoke": adminRevoke,
  "directory.get": directoryGet,
  "directory.history": directoryHistory,
  "ca.get": caGet,
  "ca.issueServer": caIssueServer,
  "crl.get": crlGet,
  "tsa.timestamp": tsaTimestamp,
  "nonce.consume": nonceConsume,
  "admin.users": adminUsers,
  "admin.pending": adminPending,
  "admin.letters": adminLetters,
  "admin.letters.sent": adminLettersSent,
  "admin.consent.reset": adminConsentReset,
  "admin.audit.verify": adminAuditVerify,
  "admin.audit": adminAudit,
};

/** Runs an operation by name on a parsed body. */
export async function runOperation(ctx: OpContext, op: OpName, body: unknown): Promise<unknown> {
  const result = await (HANDLERS[op] as Handler<OpName>)(ctx, body as OpBody<OpName>);
  // An operation that opened no transaction (a read): record the nonce before answering.
  await consumeRpcNonce(ctx.vault.db, ctx);
  return result;
}
