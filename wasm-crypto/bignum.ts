/**
 * Modular exponentiation on big-endian byte strings, computed by the core.
 *
 * {@link modPow} is constant time in base and exponent (fixed 5-bit window
 * over every bit of the exponent's byte length, whole-table scans). Its time
 * depends on the byte lengths and on the modulus's bit length only.
 *
 * {@link modPowVarTime} is DELIBERATELY VARIABLE TIME (square-and-multiply
 * that skips zero bits). It exists only as the negative control of the timing
 * leak check (issue 4: the check must flag it). RSA never uses it.
 *
 * @module
 */
import { WasmCryptoError } from "./errors.ts";
import { IO_IN, IO_OUT, IO_RAND, readIo, state, Status, wipeIo, writeIo } from "./runtime.ts";

function _strip(x: Uint8Array): Uint8Array {
  let i = 0;
  while (i < x.length && x[i] === 0) i++;
  return x.subarray(i);
}

function _check(x: unknown, what: string): asserts x is Uint8Array {
  if (!(x instanceof Uint8Array)) {
    throw new WasmCryptoError("invalid_argument", `modPow: ${what} must be a Uint8Array`);
  }
}

function _modPow(base: Uint8Array, exponent: Uint8Array, modulus: Uint8Array, varTime: boolean) {
  _check(base, "base");
  _check(exponent, "exponent");
  _check(modulus, "modulus");
  const m = _strip(modulus);
  const e = _strip(exponent);
  const b = _strip(base);
  if (m.length === 0 || (m.length === 1 && m[0] < 3)) {
    throw new WasmCryptoError("modulus_too_small", "modPow: modulus must be at least 3");
  }
  if ((m[m.length - 1] & 1) === 0) {
    throw new WasmCryptoError("even_modulus", "modPow: modulus must be odd");
  }
  if (m.length > 512) throw new WasmCryptoError("too_large", "modPow: modulus above 4096 bits");
  if (e.length > 512) throw new WasmCryptoError("too_large", "modPow: exponent above 4096 bits");
  if (b.length > 1024) throw new WasmCryptoError("too_large", "modPow: base above 8192 bits");
  const s = state();
  writeIo(IO_IN, b);
  writeIo(IO_RAND, e);
  writeIo(IO_RAND + 1024, m);
  const rc = varTime
    ? s.core.mod_pow_vartime(b.length, e.length, m.length)
    : s.core.mod_pow(b.length, e.length, m.length);
  wipeIo(IO_IN, b.length);
  wipeIo(IO_RAND, 1024 + m.length);
  if (rc !== Status.OK) throw new WasmCryptoError("internal", `modPow: core status ${rc}`);
  const out = new Uint8Array(modulus.length);
  out.set(readIo(IO_OUT, m.length), modulus.length - m.length);
  wipeIo(IO_OUT, m.length);
  return out;
}

/**
 * base^exponent mod modulus, all big-endian. The result has the modulus's byte
 * length. modulus: odd, >= 3, at most 4096 bits; exponent at most 4096 bits;
 * base at most 8192 bits (reduced first). Constant time in base and exponent.
 */
export function modPow(base: Uint8Array, exponent: Uint8Array, modulus: Uint8Array): Uint8Array {
  return _modPow(base, exponent, modulus, false);
}

/**
 * The same result as {@link modPow}, computed by DELIBERATELY VARIABLE-TIME
 * square-and-multiply. Only for the timing-leak check's negative control;
 * never use it on a secret.
 */
export function modPowVarTime(
  base: Uint8Array,
  exponent: Uint8Array,
  modulus: Uint8Array,
): Uint8Array {
  return _modPow(base, exponent, modulus, true);
}
