/**
 * The one error type of wasm-crypto: {@link WasmCryptoError} with a stable
 * machine-readable `code` (listed, with their meaning, in docs/wasm-crypto.md).
 *
 * @module
 */

/** Every code a {@link WasmCryptoError} can carry. */
export type WasmCryptoErrorCode =
  | "not_initialized"
  | "init_failed"
  | "invalid_argument"
  | "unsupported_hash"
  | "even_modulus"
  | "modulus_too_small"
  | "too_large"
  | "invalid_der"
  | "unsupported_key"
  | "invalid_key"
  | "key_too_small"
  | "key_too_large"
  | "unsupported_key_size"
  | "key_destroyed"
  | "out_of_range"
  | "message_too_long"
  | "invalid_salt_length"
  | "decryption_failed"
  | "fault_detected"
  | "internal";

/** Thrown for bad input and for states the API cannot serve; `code` is stable. */
export class WasmCryptoError extends Error {
  readonly code: WasmCryptoErrorCode;

  constructor(code: WasmCryptoErrorCode, message: string) {
    super(message);
    this.name = "WasmCryptoError";
    this.code = code;
  }
}
