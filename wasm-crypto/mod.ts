/**
 * wasm-crypto: RSA and SHA for roamsign, computed in WebAssembly (an
 * AssemblyScript core, `assembly/`), with this typed wrapper. Works unchanged
 * in Deno and in a browser Worker.
 *
 * ```ts
 * await initWasmCrypto();            // Deno: loads build/roamsign.wasm; browser: pass bytes or a URL
 * const key = generateRsaKey(2048);
 * const sig = signPkcs1v15(key, "SHA-256", message);
 * verifyPkcs1v15(key.publicKey, "SHA-256", message, sig); // true
 * key.destroy();
 * ```
 *
 * Everything after `initWasmCrypto()` is synchronous. Errors are
 * {@link WasmCryptoError}s with a stable `code`; see docs/wasm-crypto.md.
 *
 * @module
 */
export { WasmCryptoError, type WasmCryptoErrorCode } from "./errors.ts";
export {
  coreVariant,
  initWasmCrypto,
  relaxedSimdSupported,
  type WasmSource,
  zeroizeMemory,
} from "./runtime.ts";
export {
  createSha1,
  createSha256,
  type HashName,
  sha1,
  sha256,
  type StreamingHash,
} from "./sha.ts";
export { modPow, modPowVarTime } from "./bignum.ts";
export {
  type GenerateOptions,
  generateRsaKey,
  importPrivateKeyPkcs8,
  importPublicKeySpki,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  RsaPrivateKey,
  RsaPublicKey,
} from "./keys.ts";
export {
  decryptOaep,
  encryptOaep,
  mgf1,
  rsaPrivateRaw,
  rsaPublicRaw,
  signPkcs1v15,
  signPss,
  verifyPkcs1v15,
  verifyPss,
} from "./rsa.ts";
