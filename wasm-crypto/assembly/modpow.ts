/**
 * The generic modular exponentiation export (mod_pow, and mod_pow_vartime, the
 * deliberately leaky negative control of the timing check) and the test export
 * of the blinding inversion. Neither is part of RSA; both load their modulus
 * into the first temporary context (layout.ts CTX_TMP0).
 */
import { bnFromBytes, bnToBytes } from "./bignum";
import { modInvVarTime } from "./inverse";
import { CTX_TMP0, S } from "./layout";
import { ctxK, fromMont, reduceWide } from "./montgomery";
import { modExp, modExpVarTime } from "./mont_fma1";
import { ctxLoad, ERR_ARGS, IO_IN, IO_OUT, IO_RAND, limbsOf, OK, wipeScratch } from "./rsa";

/**
 * modPow: base^exp mod m. base at IO_IN (baseLen <= 1024), exp at IO_RAND
 * (expLen <= 512), m at IO_RAND + 1024 (modLen <= 512, odd, > 1, no leading
 * zero byte). Out: IO_OUT (modLen bytes). Constant time in base and exp
 * (fixed window over all expLen bytes), unless varTime is set: then the
 * deliberately leaky square-and-multiply of the timing check's negative control.
 */
export function modPow(baseLen: i32, expLen: i32, modLen: i32, varTime: bool): i32 {
  if (modLen < 1 || modLen > 512 || expLen < 0 || expLen > 512 || baseLen < 0 || baseLen > 1024) {
    return ERR_ARGS;
  }
  const mS = IO_RAND + 1024;
  if ((load<u8>(mS + <usize> (modLen - 1)) & 1) == 0) return ERR_ARGS;
  if (load<u8>(mS) == 0 || (modLen == 1 && load<u8>(mS) < 3)) return ERR_ARGS;
  const ctx = CTX_TMP0;
  ctxLoad(ctx, mS, modLen);
  const k = ctxK(ctx);
  const b = S(0), bM = S(1), e = S(2), y = S(3);
  const bl = limbsOf(baseLen);
  bnFromBytes(b, bl, IO_IN, baseLen);
  reduceWide(bM, b, bl, ctx);
  const ek = limbsOf(expLen);
  bnFromBytes(e, ek, IO_RAND, expLen);
  if (varTime) modExpVarTime(y, bM, e, ek, ctx);
  else modExp(y, bM, e, ek, ctx);
  fromMont(y, y, ctx);
  bnToBytes(IO_OUT, modLen, y, k);
  wipeScratch();
  return OK;
}

/** See index.ts mod_inv_vartime_for_tests. */
export function modInvVarTimeForTests(mLen: i32): i32 {
  if (mLen < 1 || mLen > 512) return 0;
  const ctx = CTX_TMP0;
  ctxLoad(ctx, IO_RAND, mLen);
  const k = ctxK(ctx);
  bnFromBytes(S(0), k, IO_IN, mLen);
  const ok = modInvVarTime(S(1), S(0), ctx);
  bnToBytes(IO_OUT, mLen, S(1), k);
  wipeScratch();
  return <i32>ok;
}
