/**
 * Every HTTP error code a roamsign process answers with, as one union with a plain
 * message per code (the model: `wasm-crypto/errors.ts`). Codes are stable: clients
 * branch on `code`, never on the message; the meaning, status and producing process of
 * each are in docs/errors.md. Server-side, `ApiError` (`platform/errors.ts`) takes an
 * {@link ErrorCode}, so a code that is not listed here is a type error.
 *
 * The applet's own client-side codes (`FlowError`, never sent over HTTP) are not here.
 *
 * @module
 */

/** Every code of the error envelope `{ "error": { "code", "message" } }`. */
export type ErrorCode =
  // Request authentication (internal RPC)
  | "unsigned"
  | "bad_auth_header"
  | "stale_request"
  | "unknown_key"
  | "bad_signature"
  | "replayed_nonce"
  // Allow-list and input
  | "method_not_allowed"
  | "op_not_allowed"
  | "op_forbidden"
  | "unsupported_media_type"
  | "body_too_large"
  | "bad_json"
  | "invalid_request"
  | "bad_phrase_format"
  | "phrase_typo"
  | "bad_registration"
  | "bad_public_key"
  | "key_record_mismatch"
  | "bad_opaque_message"
  | "same_key"
  // Rate limits
  | "rate_limited"
  | "pow_required"
  | "backoff"
  // Vault operations
  | "pop_invalid"
  | "signature_invalid"
  | "key_superseded"
  | "reauth_required"
  | "ksf_mismatch"
  | "nonce_used"
  | "application_pending"
  | "identity_taken"
  | "unknown_identity"
  | "already_active"
  | "consent_expired"
  | "consent_locked"
  | "registration_mismatch"
  | "wrong_phrase"
  | "account_pending"
  | "account_revoked"
  | "not_active"
  | "login_expired"
  | "login_failed"
  | "confirm_invalid"
  | "no_certificate"
  | "already_revoked"
  | "no_application"
  | "no_letter"
  | "idempotency_key_reused"
  // Passkeys (docs/passkeys.md)
  | "passkey_challenge_expired"
  | "passkey_failed"
  | "passkey_exists"
  | "unknown_passkey"
  | "too_many_passkeys"
  | "upgrade_required"
  | "already_upgraded"
  | "passkey_slots_mismatch"
  // Availability (503/504 are retryable)
  | "database_unavailable"
  | "vault_unavailable"
  | "vault_timeout"
  | "upstream_unavailable"
  | "upstream_timeout"
  | "bad_upstream_response"
  | "session_store_unavailable"
  | "internal"
  // hono's own HTTP errors (platform/errors.ts)
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "timeout"
  // Public web server and the KS channel
  | "unknown_session"
  | "session_expired"
  | "session_not_keyed"
  | "session_already_keyed"
  | "bad_session_key"
  | "replayed_request"
  | "out_of_order"
  | "request_in_flight"
  | "bad_ciphertext"
  | "unknown_op"
  | "bad_nonce"
  | "no_pending_login"
  | "not_signed_in"
  | "wrong_identity"
  | "message_too_long"
  | "invalid_signature"
  | "certificate_not_active"
  | "bad_identity"
  | "no_host"
  | "host_unavailable"
  | "host_timeout"
  // The demo bank
  | "bad_envelope"
  | "bad_instruction"
  | "wrong_host"
  | "wrong_signer"
  | "stale_instruction"
  | "key_revoked"
  | "certificate_expired"
  | "unknown_signer"
  | "duplicate_message"
  | "duplicate_payment"
  | "insufficient_funds"
  | "wrong_currency"
  | "directory_unavailable";

/** A plain message per code (what it means for whoever sent the request). */
export const ERROR_MESSAGES: { readonly [C in ErrorCode]: string } = {
  unsigned: "The request is not signed.",
  bad_auth_header: "The request's signature headers are incomplete or malformed.",
  stale_request: "The request's time is too far from the server's clock.",
  unknown_key: "The request is signed with a key this service does not accept.",
  bad_signature: "The request's signature does not verify.",
  replayed_nonce: "This request was sent before.",
  method_not_allowed: "This method is not allowed here.",
  op_not_allowed: "This operation does not exist.",
  op_forbidden: "This operation is not open to this caller.",
  unsupported_media_type: "The body must be JSON (application/json).",
  body_too_large: "The request is too large.",
  bad_json: "The body is not valid JSON.",
  invalid_request: "The request does not have the expected fields.",
  bad_phrase_format: "The consent phrase must be four groups of five characters.",
  phrase_typo: "A group of the consent phrase has a typing mistake.",
  bad_registration: "The registration data are not acceptable.",
  bad_public_key: "The public key is not an acceptable RSA key.",
  key_record_mismatch: "The key record does not match this identity or key.",
  bad_opaque_message: "A sign-in message could not be read.",
  same_key: "Re-registration needs a new key pair.",
  rate_limited: "Too many requests; try again later.",
  pow_required: "Too many sign-ins for this identity; solve the puzzle and try again.",
  backoff: "Too many failed attempts from this address; wait before trying again.",
  pop_invalid: "The proof of possession of the key does not verify.",
  signature_invalid: "The request's signature by the user's key does not verify.",
  key_superseded: "The request is signed with a key that has been replaced; sign in again.",
  reauth_required: "Confirm with your pass phrase first.",
  ksf_mismatch: "The key record's stretching parameters are not the ones the vault set.",
  confirm_invalid: "The updated key record could not be confirmed; sign in again.",
  nonce_used: "This request was already used.",
  application_pending: "An application for this identity is already pending.",
  identity_taken: "This identity is already registered.",
  unknown_identity: "There is no such identity.",
  already_active: "Consent was already given.",
  consent_expired: "The time to give consent has passed; apply again.",
  consent_locked: "Too many wrong consent phrases; an operator must reset it.",
  registration_mismatch: "The registration data differ from the application.",
  wrong_phrase: "The consent phrase is wrong.",
  account_pending: "The account is waiting for consent.",
  account_revoked: "The account's key has been revoked.",
  not_active: "The account is not active.",
  login_expired: "The sign-in has expired; start again.",
  login_failed: "The sign-in failed.",
  no_certificate: "There is no certificate for this identity.",
  already_revoked: "The identity is already revoked.",
  no_application: "There is no pending application.",
  no_letter: "There is no queued letter.",
  idempotency_key_reused: "This idempotency key was used with a different request.",
  passkey_challenge_expired: "The passkey challenge is unknown, used or expired; start again.",
  passkey_failed: "The passkey's answer does not verify.",
  passkey_exists: "This passkey is already registered.",
  unknown_passkey: "There is no such passkey for this identity.",
  too_many_passkeys: "This identity has as many passkeys as it may have; remove one first.",
  upgrade_required: "The key record must be upgraded first: sign in again with your pass phrase.",
  already_upgraded: "The key record is already version 2.",
  passkey_slots_mismatch:
    "The passkeys changed meanwhile, or a passkey's slot is not for its key; nothing was stored: " +
    "sign in again and retry.",
  database_unavailable: "The database is unavailable; try again.",
  vault_unavailable: "The key vault is unavailable; try again.",
  vault_timeout: "The key vault did not answer in time.",
  upstream_unavailable: "The service behind this one cannot be reached; try again.",
  upstream_timeout: "The service behind this one did not answer in time.",
  bad_upstream_response: "The service behind this one gave an unreadable answer.",
  session_store_unavailable:
    "The web servers' session store cannot be reached right now; nothing was done. Try again.",
  internal: "Internal error.",
  bad_request: "The request is malformed.",
  unauthorized: "The request is not authorized.",
  forbidden: "The request is forbidden.",
  not_found: "Not found.",
  timeout: "The request timed out.",
  unknown_session: "The session does not exist.",
  session_expired: "The session has expired.",
  session_not_keyed: "The session has no key yet.",
  session_already_keyed: "The session already has a key.",
  bad_session_key: "The session key could not be unwrapped; the session is ended.",
  replayed_request: "This request was already received.",
  out_of_order: "A request is missing before this one.",
  request_in_flight: "The previous request has not been answered yet.",
  bad_ciphertext: "The sealed request does not authenticate.",
  unknown_op: "This operation is not carried by the session.",
  bad_nonce: "The signed request's nonce is not the one for this request.",
  no_pending_login: "This session did not start that sign-in.",
  not_signed_in: "Sign in first.",
  wrong_identity: "You are signed in as another identity.",
  message_too_long: "The message is too long: at most 65,536 bytes (64 KiB) can be signed.",
  invalid_signature: "The signature does not verify.",
  certificate_not_active: "The signer's certificate is not active.",
  bad_identity: "This is not an identity.",
  no_host: "No bank is configured.",
  host_unavailable: "The bank is unavailable; try again.",
  host_timeout: "The bank did not answer in time; check before sending again.",
  bad_envelope: "The message to the bank does not open.",
  bad_instruction: "The instruction is not a valid debit instruction.",
  wrong_host: "The instruction is for another bank.",
  wrong_signer: "Only the signer, signed in, may send an instruction.",
  stale_instruction: "The instruction's date is too old or in the future.",
  key_revoked: "The signer's key is revoked.",
  certificate_expired: "The signer's certificate has expired.",
  unknown_signer: "The directory has no such signer.",
  duplicate_message: "This message was already executed.",
  duplicate_payment:
    "This payment was executed before; it was not paid again, and this is its receipt.",
  insufficient_funds: "The balance does not cover the amount.",
  wrong_currency: "The instruction's currency is not the bank's.",
  directory_unavailable: "The roamsign directory could not be checked; try again.",
};

/** Every {@link ErrorCode}. */
export const ERROR_CODES: readonly ErrorCode[] = Object.keys(ERROR_MESSAGES) as ErrorCode[];

/** True for a code of the union (e.g. one read from an answer). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_MESSAGES, code);
}
