/**
 * The error envelope every roamsign process answers with:
 * `{ "error": { "code": "snake_case_code", "message": "…" } }`.
 *
 * Handlers throw {@link ApiError} with a stable code (listed in docs/errors.md);
 * {@link onError} renders it, maps hono's own HTTP errors to codes, and turns
 * anything unexpected into a generic 500 `internal` without internals.
 *
 * @module
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "../protocol/mod.ts";
import { log } from "./log.ts";

/**
 * The code parameter of {@link ApiError}: a literal code (or union of literals) must be
 * an {@link ErrorCode}, else the call is a type error. A value typed only `string` is
 * let through: a code relayed from an upstream answer (`readResponse`, the web
 * server's bank relay) and the vault's helpers that take a `code: string` parameter
 * (`key-vault/guard.ts` `_denied`, `key-vault/operations/context.ts` `verifySigned`).
 */
export type KnownCode<C extends string> = C & (string extends C ? unknown : ErrorCode);

/** An error meant for the caller: HTTP status, stable machine-readable code, short message. */
export class ApiError<C extends string = ErrorCode> extends HTTPException {
  /** An {@link ErrorCode}, or the code an upstream answered with (relayed as is). */
  readonly code: string;
  readonly details?: Record<string, unknown>;

  constructor(
    status: ContentfulStatusCode,
    code: KnownCode<C>,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(status, { message });
    this.name = "ApiError";
    this.code = code;
    this.details = details;
  }
}

/** The JSON body of an error response. */
export interface ErrorBody {
  error: { code: string; message: string } & Record<string, unknown>;
}

/** Builds the envelope for a code and message. */
export function errorBody<C extends string>(
  code: KnownCode<C>,
  message: string,
  details?: Record<string, unknown>,
): ErrorBody {
  return { error: { code, message, ...details } };
}

/**
 * 503 and 504 are the retryable answers (docs/faults.md): the service or its database
 * was unreachable, or did not answer in time. Their body carries `retryable: true`;
 * retrying the same request with the same idempotency key is safe.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 503 || status === 504;
}

const _HONO_CODES: Record<number, ErrorCode> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  408: "timeout",
  413: "body_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

/** hono `onError` handler: ApiError as is, HTTPException by status, the rest as a bare 500. */
export const onError: ErrorHandler = function onError(err: Error, c: Context) {
  if (err instanceof ApiError) {
    const details = isRetryableStatus(err.status)
      ? { ...err.details, retryable: true }
      : err.details;
    return c.json(errorBody(err.code, err.message, details), err.status);
  }
  if (err instanceof HTTPException && err.status < 500) {
    const code = _HONO_CODES[err.status] ?? "bad_request";
    return c.json(errorBody(code, err.message || code.replaceAll("_", " ")), err.status);
  }
  log("error", "unhandled_error", {
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    error: err instanceof Error ? err.name : typeof err,
    detail: err instanceof Error ? err.message : undefined,
  });
  return c.json(errorBody("internal", "internal error"), 500);
};

/** hono `notFound` handler. */
export const notFound: NotFoundHandler = function notFound(c: Context) {
  return c.json(errorBody("not_found", "no such route"), 404);
};
