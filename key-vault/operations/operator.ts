/**
 * The operator's operations: admin.revoke, the lists of users, pending applications and
 * consent letters, consent reset and the audit log.
 *
 * @module
 */
import { ApiError } from "../../platform/mod.ts";
import { verifyAudit } from "../audit.ts";
import * as repo from "../repositories/mod.ts";
import { audit, type Handler, inTransaction, iso } from "./context.ts";
import { revokeUser } from "./lifecycle.ts";

export const adminRevoke: Handler<"admin.revoke"> = async (ctx, body) => {
  return await inTransaction(ctx, async (tx) => {
    const user = await repo.lockUser(tx, body.identity);
    if (!user) throw new ApiError(404, "unknown_identity", "no such identity");
    if (user.status === "revoked") throw new ApiError(409, "already_revoked", "already revoked");
    return await revokeUser(
      tx,
      ctx,
      user,
      { by: "operator", operator: body.operator ?? null },
      body.reason,
      "admin.revoke",
    );
  });
};

export const adminUsers: Handler<"admin.users"> = async (ctx) => {
  const users = await repo.listUsers(ctx.vault.db);
  return {
    users: users.map((u) => ({
      identity: u.identity,
      fullName: u.full_name,
      status: u.status,
      createdAt: iso(u.created_at),
      activatedAt: iso(u.activated_at),
      revokedAt: iso(u.revoked_at),
    })),
  };
};

export const adminPending: Handler<"admin.pending"> = async (ctx) => {
  const rows = await repo.listPending(ctx.vault.db);
  return {
    pending: rows.map((r) => ({
      identity: r.identity,
      fullName: r.full_name,
      appliedAt: iso(r.created_at),
      consentExpiresAt: iso(r.expires_at),
      expired: new Date(r.expires_at) <= ctx.now,
      attempts: r.attempts,
      locked: r.attempts >= ctx.vault.config.consentMaxAttempts,
      letter: r.letter_status,
    })),
  };
};

export const adminLetters: Handler<"admin.letters"> = async (ctx) => {
  const rows = await repo.listQueuedLetters(ctx.vault.db);
  const letters = [];
  for (const r of rows) {
    const phrase = r.letter_sealed
      ? new TextDecoder().decode(await ctx.vault.letters.open(r.identity, r.letter_sealed))
      : null;
    letters.push({
      identity: r.identity,
      fullName: r.full_name,
      address: r.address,
      phrase,
      queuedAt: iso(r.created_at),
      consentExpiresAt: iso(r.expires_at),
    });
  }
  await inTransaction(
    ctx,
    (tx) => audit(tx, ctx, "admin.letters", null, "listed", { count: letters.length }),
  );
  return { letters };
};

export const adminLettersSent: Handler<"admin.letters.sent"> = async (ctx, body) => {
  return await inTransaction(ctx, async (tx) => {
    if (!(await repo.markLetterSent(tx, body.identity, ctx.now))) {
      throw new ApiError(404, "no_letter", "no queued letter for this identity");
    }
    await audit(tx, ctx, "admin.letters.sent", body.identity, "sent");
    return { identity: body.identity, letter: "sent" };
  });
};

export const adminConsentReset: Handler<"admin.consent.reset"> = async (ctx, body) => {
  return await inTransaction(ctx, async (tx) => {
    const c = await repo.findConsent(tx, body.identity);
    if (!c) throw new ApiError(404, "no_application", "no pending application for this identity");
    const expiresAt = new Date(
      Math.max(
        new Date(c.expires_at).getTime(),
        ctx.now.getTime() + ctx.vault.config.consentTtlDays * 86_400_000,
      ),
    );
    await repo.resetConsentAttempts(tx, body.identity, expiresAt);
    await audit(tx, ctx, "admin.consent.reset", body.identity, "reset", { attempts: c.attempts });
    return { identity: body.identity, attempts: 0, consentExpiresAt: expiresAt.toISOString() };
  });
};

export const adminAuditVerify: Handler<"admin.audit.verify"> = (ctx) => verifyAudit(ctx.vault.db);

export const adminAudit: Handler<"admin.audit"> = async (ctx, body) => {
  const rows = await repo.auditEntries(ctx.vault.db, body.identity, body.limit ?? 100);
  return {
    entries: rows.map((r) => ({
      seq: r.seq === null ? null : Number(r.seq),
      at: new Date(r.at).toISOString(),
      actor: r.actor,
      op: r.op,
      identity: r.identity,
      outcome: r.outcome,
      details: JSON.parse(r.details),
    })),
  };
};
