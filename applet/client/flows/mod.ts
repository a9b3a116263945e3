/**
 * The user's flows (DESIGN.md §2 steps 3–7, 11) as plain functions over a
 * {@link Session}: apply to register, consent, sign in, sign and submit,
 * update registration, sign out. wasm-crypto does every RSA operation and
 * OPAQUE (`@serenity-kit/opaque`) the password protocol; WebCrypto does
 * AES-GCM and HKDF. The applet's worker runs these, and so can a Deno client.
 *
 * Secrets: the pass phrase arrives as bytes and becomes a string only for the
 * OPAQUE calls (the library's API; docs/architecture.md); OPAQUE's export_key is
 * decoded to bytes at once, turned into a non-extractable KEK and wiped; SKu
 * lives in wasm-crypto memory, its PKCS#8 bytes are wiped after each use.
 *
 * One file per flow: register.ts, sign_in.ts, sign.ts, document.ts, lifecycle.ts, host.ts,
 * passkeys.ts (and
 * payments.ts, the payment form's idempotency keys, pure data the page holds); what
 * they share is common.ts.
 *
 * @module
 */
export * from "./common.ts";
export * from "./register.ts";
export * from "./sign_in.ts";
export * from "./sign.ts";
export * from "./lifecycle.ts";
export * from "./host.ts";
export * from "./payments.ts";
export * from "./passkeys.ts";
export * from "./document.ts";
