/**
 * What every roamsign process agrees on, browser-safe (no Deno or Node APIs): bytes,
 * base64url and DER helpers, registration data, the key record, the session channel, the
 * size limits both ends check, the host envelope, trust anchors and the link contract,
 * signed user requests and the consent-phrase format, and the HTTP error codes
 * (`errors.ts`). The applet, the web server, the proxy, the vault and the bank import it
 * through this file.
 *
 * @module
 */
export * from "./bytes.ts";
export * from "./base64url.ts";
export * from "./der.ts";
export * from "./registration.ts";
export * from "./key_record.ts";
export * from "./key_record_v2.ts";
export * from "./passkey_slot.ts";
export * from "./pending_record.ts";
export * from "./channel.ts";
export * from "./limits.ts";
export * from "./host.ts";
export * from "./signed_attributes.ts";
export * from "./host_receipt.ts";
export * from "./anchors.ts";
export * from "./linked.ts";
export * from "./user_request.ts";
export * from "./consent_phrase.ts";
export * from "./pow_rule.ts";
export * from "./errors.ts";
