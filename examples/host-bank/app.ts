/**
 * The bank's HTTP face (DESIGN.md §2.8, docs/host-bank.md):
 *
 * - `GET /v1/keys` → `{ name, integrityCert, confidentialityCert, currency }` (PUB(i,h),
 *   PUB(c,h), and the one currency the bank keeps, which instructions must use);
 * - `POST /v1/messages` `{ key, iv, ct }` → `{ iv, ct }`: unwraps the message's host
 *   session key with PUB(c,h), opens the signed debit instruction, refuses another
 *   currency, verifies the user's signature against the roamsign directory (refusing
 *   revoked and superseded keys), refuses a message id it executed before, debits the
 *   ledger once per idempotency key, and answers with a receipt signed by PUB(i,h),
 *   sealed under the same session key. A repeat of a payment it executed (same signer,
 *   idempotency key and payment) is answered with the original receipt and
 *   `code: "duplicate_payment"`, and nothing is paid. Refusals are the error envelope
 *   with a 4xx and a stable code.
 * - `GET /healthz`.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { b64uDecode, b64uEncode } from "../../protocol/mod.ts";
import { fromUtf8, sha256, toHex, utf8, wipe } from "../../protocol/mod.ts";
import type { ErrorCode } from "../../protocol/mod.ts";
import {
  amountMinor,
  type DebitInstruction,
  deriveHostKeys,
  formatMinor,
  HOST_KEY_BYTES,
  type HostAnswer,
  hostKeyLabel,
  HostProtocolError,
  openHost,
  parseDebitInstruction,
  type Receipt,
  receiptText,
  sealHost,
} from "../../protocol/mod.ts";
import { ApiError, type KnownCode, notFound, onError } from "../../platform/mod.ts";
import { SIGNED_IN_HEADER } from "../../protocol/mod.ts";
import { identityTag, log } from "../../platform/mod.ts";
import { DirectoryError, loadCa, type VerifyResult, verifySignature } from "../verify/mod.ts";
import type { HostKeyPairs } from "./keys.ts";
import { Ledger, type LedgerEntry, LedgerError } from "./ledger.ts";
import {
  httpMetrics,
  mountMetrics,
  mountReadiness,
  type ReadinessCheck,
} from "../../platform/mod.ts";

/** What the app needs. */
export interface HostDeps {
  name: string;
  keys: HostKeyPairs;
  ledger: Ledger;
  /** The roamsign web server whose directory the bank checks signatures against. */
  directoryUrl: string;
  /** The roamsign CA to trust (PEM); without it `/ca.pem` is fetched once and kept. */
  caPem?: string;
  fetch?: typeof fetch;
  now?: () => Date;
  /** `/readyz` checks (examples/host-bank/operator.ts); without them it is not served. */
  readiness?: Record<string, ReadinessCheck>;
}

/** How far an instruction's date may lie in the past (the replay window the ids cover). */
export const MAX_AGE_MS = 24 * 3_600_000;
/** How far in the future (clock skew). */
export const MAX_SKEW_MS = 5 * 60_000;

const _B64U = /^[A-Za-z0-9_-]+$/;
const _envelope = z.strictObject({
  key: z.string().max(1024).regex(_B64U),
  iv: z.string().max(32).regex(_B64U),
  ct: z.string().max(200_000).regex(_B64U),
});
const _message = z.strictObject({
  v: z.literal(1),
  message: z.string().max(8_192).regex(_B64U),
  signature: z.string().max(1_024).regex(_B64U),
  alg: z.literal("RSASSA-PKCS1-v1_5-SHA256"),
});

const _REFUSALS: Record<Exclude<VerifyResult["verdict"], "valid">, [403, ErrorCode, string]> = {
  revoked: [403, "key_revoked", "the signer's key is revoked"],
  "signed-by-superseded-key": [
    403,
    "key_superseded",
    "signed with a key the signer has replaced by re-registration",
  ],
  expired: [403, "certificate_expired", "the signer's certificate has expired"],
  invalid: [403, "invalid_signature", "the signature does not verify"],
  "unknown-identity": [403, "unknown_signer", "the directory has no such signer"],
};

function _bad<C extends string>(code: KnownCode<C>, message: string): ApiError {
  return new ApiError(400, code, message);
}

/** Builds the bank's hono app. */
export function createHostApp(deps: HostDeps): Hono {
  const now = deps.now ?? (() => new Date());
  let caPem = deps.caPem;
  const app = new Hono();
  app.onError(onError);
  app.notFound(notFound);
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: 256 * 1024,
      onError: () => {
        throw new ApiError(413, "body_too_large", "request body larger than 256 KiB");
      },
    }),
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Operator view (docs/operations.md): the bank listens on loopback, behind the web server.
  app.use("*", httpMetrics());
  mountMetrics(app);
  if (deps.readiness) mountReadiness(app, deps.readiness);
  app.get("/v1/keys", (c) =>
    c.json({
      name: deps.name,
      integrityCert: deps.keys.integrityCert,
      confidentialityCert: deps.keys.confidentialityCert,
      currency: deps.ledger.currency,
    }));

  app.post("/v1/messages", async (c) => {
    if (!/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
      throw new ApiError(415, "unsupported_media_type", "expected application/json");
    }
    const raw = await c.req.json().catch(() => {
      throw _bad("bad_json", "body is not JSON");
    });
    const env = _envelope.safeParse(raw);
    if (!env.success) throw _bad("bad_request", "expected { key, iv, ct } in base64url");

    // 1. The host session key, under PUB(c,h) with this host's label.
    let kh: Uint8Array | null = null;
    let keys;
    try {
      kh = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "RSA-OAEP", label: hostKeyLabel(deps.name) as BufferSource },
          deps.keys.confidentialityKey,
          b64uDecode(env.data.key) as BufferSource,
        ),
      );
      if (kh.length !== HOST_KEY_BYTES) throw new Error("length");
      keys = await deriveHostKeys(kh, deps.name);
    } catch {
      throw _bad("bad_envelope", "the host session key does not decrypt");
    } finally {
      wipe(kh);
    }

    // 2. The signed instruction.
    let inner: z.infer<typeof _message>;
    let message: Uint8Array;
    let instruction: DebitInstruction;
    try {
      const plaintext = await openHost(keys.c2h, "c2h", deps.name, env.data);
      const parsed = _message.safeParse(JSON.parse(fromUtf8(plaintext)));
      if (!parsed.success) throw _bad("bad_request", "the sealed message has the wrong shape");
      inner = parsed.data;
      message = b64uDecode(inner.message);
      instruction = parseDebitInstruction(fromUtf8(message));
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof HostProtocolError) throw _bad(err.code, err.message);
      throw _bad("bad_request", "the sealed message is not a roamsign host message");
    }
    if (instruction.host !== deps.name) {
      throw _bad("wrong_host", `the instruction is for ${instruction.host}, not ${deps.name}`);
    }
    const age = now().getTime() - Date.parse(instruction.date);
    if (age > MAX_AGE_MS || age < -MAX_SKEW_MS) {
      throw new ApiError(409, "stale_instruction", "the instruction's date is too far from now");
    }
    if (instruction.currency !== deps.ledger.currency) {
      throw new ApiError(
        409,
        "wrong_currency",
        `the bank keeps accounts in ${deps.ledger.currency}, not ${instruction.currency}`,
      );
    }

    // 3. The signature, against the directory.
    let verdict: VerifyResult;
    try {
      caPem ??= await _fetchCa(deps);
      verdict = await verifySignature({
        server: deps.directoryUrl,
        identity: instruction.from,
        message,
        signature: b64uDecode(inner.signature),
        caPem,
        fetch: deps.fetch,
        now: now(),
      });
    } catch (err) {
      if (err instanceof DirectoryError) {
        log("warn", "directory_unavailable", { code: err.code });
        throw new ApiError(503, "directory_unavailable", "the roamsign directory is unavailable");
      }
      throw err;
    }
    const tag = await identityTag(instruction.from);
    if (verdict.verdict !== "valid") {
      const [status, code, text] = _REFUSALS[verdict.verdict];
      log("info", "message_refused", { messageId: instruction.messageId, identity: tag, code });
      throw new ApiError(status, code, text);
    }
    // Only the signer, signed in, may send an instruction (issue 15 item 7): a signature
    // Alice made is no order when someone else's session delivers it. The web server
    // names the sending session's identity (server/host_relay.ts); no name, no payment.
    if (c.req.header(SIGNED_IN_HEADER) !== instruction.from) {
      log("info", "message_refused", {
        messageId: instruction.messageId,
        identity: tag,
        code: "wrong_signer",
      });
      throw new ApiError(
        403,
        "wrong_signer",
        "the instruction must be sent by its signer, signed in",
      );
    }

    // 4. Once only (by message id, and by signer and idempotency key), then the ledger.
    const messageSha256 = toHex(await sha256(message));
    let done;
    try {
      done = await deps.ledger.debit({
        messageId: instruction.messageId,
        idempotencyKey: instruction.idempotencyKey,
        identity: instruction.from,
        to: instruction.to,
        amount: amountMinor(instruction.amount),
        currency: instruction.currency,
        reference: instruction.reference,
        serial: verdict.serial!,
        messageSha256,
      }, now());
    } catch (err) {
      if (err instanceof LedgerError) {
        log("info", "message_refused", {
          messageId: instruction.messageId,
          identity: tag,
          code: err.code,
        });
        throw new ApiError(409, err.code, err.message);
      }
      throw err;
    }

    // 5. The receipt (the original one for a repeat), signed by PUB(i,h), sealed back.
    const receipt = _receiptOf(deps.name, deps.ledger.currency, done.entry, done.balance);
    const answer: HostAnswer = {
      receipt: receiptText(receipt),
      signature: b64uEncode(await _sign(deps.keys.integrityKey, receiptText(receipt))),
      ...(done.duplicate ? { code: "duplicate_payment" as const } : {}),
    };
    const sealed = await sealHost(keys.h2c, "h2c", deps.name, utf8(JSON.stringify(answer)));
    log("info", done.duplicate ? "payment_repeated" : "message_executed", {
      messageId: instruction.messageId,
      receiptId: receipt.receiptId,
      identity: tag,
      serial: receipt.serial,
    });
    return c.json(sealed);
  });
  return app;
}

/**
 * The receipt of a ledger entry. A function of the entry alone, so a repeat gets the
 * same bytes as the first answer (and, RSASSA-PKCS1-v1_5 being deterministic, the same
 * signature).
 */
function _receiptOf(host: string, currency: string, e: LedgerEntry, balance: number): Receipt {
  return {
    v: 2,
    host,
    receiptId: e.receiptId,
    messageId: e.messageId,
    idempotencyKey: e.idempotencyKey!,
    identity: e.identity,
    serial: e.serial,
    messageSha256: e.messageSha256,
    status: "executed",
    debit: { to: e.to, amount: formatMinor(e.amount), currency, reference: e.reference },
    balance: formatMinor(balance),
    processedAt: e.at,
  };
}

async function _sign(key: CryptoKey, text: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, utf8(text) as BufferSource),
  );
}

async function _fetchCa(deps: HostDeps): Promise<string> {
  const f = deps.fetch ?? fetch.bind(globalThis);
  const url = `${deps.directoryUrl.replace(/\/+$/, "")}/ca.pem`;
  let res: Response;
  try {
    res = await f(url, { signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new DirectoryError("directory_unavailable", `cannot fetch ${url}`);
  }
  const text = await res.text();
  if (!res.ok) throw new DirectoryError("directory_unavailable", `${url}: HTTP ${res.status}`);
  await loadCa(text); // only a well-formed CA is kept
  return text;
}
