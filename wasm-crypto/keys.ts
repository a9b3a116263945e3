/**
 * RSA keys: import (PKCS#8, SPKI), export, generation (FIPS 186-5 B.3.3 with
 * e = 65537), and destruction.
 *
 * A private key's numbers live only in a slot of the core's linear memory
 * (never in JS), from import or generation until {@link RsaPrivateKey.destroy}
 * (or until the object is garbage collected, or {@link zeroizeMemory}).
 * A public key keeps its modulus, exponent and Montgomery constants in JS (all
 * public).
 *
 * @module
 */
import {
  encodePkcs8,
  encodeSpki,
  parsePkcs8,
  parseSpki,
  type RsaPrivateComponents,
} from "./der.ts";
import { WasmCryptoError } from "./errors.ts";
import {
  allocSlot,
  freeSlot,
  generation,
  IO_IN,
  IO_RAND,
  IO_STAGE,
  mem,
  randomIo,
  STAGE_STRIDE,
  state,
  Status,
  wipeIo,
  writeIo,
} from "./runtime.ts";

/** Smallest and largest modulus accepted, in bits. */
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 4096;

function _strip(x: Uint8Array): Uint8Array {
  let i = 0;
  while (i < x.length - 1 && x[i] === 0) i++;
  return x.subarray(i);
}

function _bitLength(x: Uint8Array): number {
  const s = _strip(x);
  if (s.length === 1 && s[0] === 0) return 0;
  return (s.length - 1) * 8 + (32 - Math.clz32(s[0]));
}

/** Checks n and e (public) and returns n's bit length. */
function _checkPublic(n: Uint8Array, e: Uint8Array): number {
  const bits = _bitLength(n);
  if (bits < MIN_RSA_BITS) {
    throw new WasmCryptoError(
      "key_too_small",
      `rsa: modulus of ${bits} bits, minimum ${MIN_RSA_BITS}`,
    );
  }
  if (bits > MAX_RSA_BITS) {
    throw new WasmCryptoError(
      "key_too_large",
      `rsa: modulus of ${bits} bits, maximum ${MAX_RSA_BITS}`,
    );
  }
  if ((n[n.length - 1] & 1) === 0) throw new WasmCryptoError("invalid_key", "rsa: even modulus");
  const eBits = _bitLength(e);
  if ((e[e.length - 1] & 1) === 0 || eBits < 2) {
    throw new WasmCryptoError("invalid_key", "rsa: public exponent must be odd and at least 3");
  }
  if (eBits > 33) {
    throw new WasmCryptoError(
      "unsupported_key",
      "rsa: public exponent above 2^33 is not supported",
    );
  }
  return bits;
}

/** An RSA public key. */
export class RsaPublicKey {
  /** Bit length of the modulus. */
  readonly bits: number;
  readonly #n: Uint8Array;
  readonly #e: Uint8Array;
  /** The core's public context for n (Montgomery constants; public values). */
  readonly #ctx: Uint8Array;

  /** Use {@link importPublicKeySpki} or a private key's `publicKey`. */
  constructor(n: Uint8Array, e: Uint8Array, ctx?: Uint8Array) {
    this.#n = _strip(n).slice();
    this.#e = _strip(e).slice();
    this.bits = _checkPublic(this.#n, this.#e);
    // the public context: the Montgomery context of n and the entry constant of the
    // public operation (assembly/rsa.ts pubPrepare), computed once per key
    const s = state();
    const at = s.core.layout_pub_ctx();
    if (ctx) {
      mem().set(ctx, at);
      s.core.rsa_pub_extend();
    } else {
      writeIo(IO_IN, this.#n);
      s.core.rsa_pub_prepare(this.#n.length);
      wipeIo(IO_IN, this.#n.length);
    }
    this.#ctx = mem().slice(at, at + s.core.layout_pub_ctx_size());
    s.core.wipe_scratch();
  }

  /** Modulus, big-endian, no leading zero byte (a copy). */
  get n(): Uint8Array {
    return this.#n.slice();
  }

  /** Public exponent, big-endian, no leading zero byte (a copy). */
  get e(): Uint8Array {
    return this.#e.slice();
  }

  /** Byte length of the modulus (and of signatures and ciphertexts). */
  get byteLength(): number {
    return this.#n.length;
  }

  /** SubjectPublicKeyInfo DER. */
  exportSpki(): Uint8Array {
    return encodeSpki({ n: this.#n, e: this.#e });
  }

  /**
   * @internal x^e mod n for x of byteLength bytes; without x, for the byteLength bytes the
   * caller wrote at IO_IN (OAEP builds its block there, no copy). Wipes IO_IN. Throws
   * out_of_range when x >= n.
   */
  _publicOp(x?: Uint8Array): Uint8Array {
    const s = state();
    const k = this.#n.length;
    if (x) {
      if (x.length !== k) {
        throw new WasmCryptoError("out_of_range", `rsa: input length ${x.length}, expected ${k}`);
      }
      writeIo(IO_IN, x);
    }
    const m = mem();
    m.set(this.#ctx, s.core.layout_pub_ctx());
    writeIo(IO_RAND, this.#e);
    const rc = s.core.rsa_public(k, this.#e.length);
    const out = m.slice(s.io + 4096, s.io + 4096 + k);
    m.fill(0, s.io + 4096, s.io + 4096 + k);
    wipeIo(IO_IN, k);
    if (rc === Status.RANGE) {
      throw new WasmCryptoError("out_of_range", "rsa: representative is not below the modulus");
    }
    if (rc !== Status.OK) throw new WasmCryptoError("internal", `rsa: core status ${rc}`);
    return out;
  }
}

interface _Slot {
  addr: number;
  generation: number;
}

const _registry = new FinalizationRegistry<_Slot>((slot) => {
  // A key dropped without destroy(): wipe its slot if the instance still lives.
  if (slot.generation === generation()) freeSlot(slot.addr);
});

/** An RSA private key held in the core's memory. */
export class RsaPrivateKey {
  readonly publicKey: RsaPublicKey;
  readonly bits: number;
  #slot: _Slot | undefined;

  /** Use {@link generateRsaKey} or {@link importPrivateKeyPkcs8}. */
  constructor(addr: number, publicKey: RsaPublicKey) {
    this.publicKey = publicKey;
    this.bits = publicKey.bits;
    this.#slot = { addr, generation: generation() };
    _registry.register(this, this.#slot, this);
  }

  /** True after destroy() or zeroizeMemory(). */
  get destroyed(): boolean {
    return !this.#slot || this.#slot.generation !== generation();
  }

  /** @internal The slot address; throws key_destroyed. */
  _slot(): number {
    state();
    if (!this.#slot || this.#slot.generation !== generation()) {
      throw new WasmCryptoError("key_destroyed", "rsa: the key was destroyed");
    }
    return this.#slot.addr;
  }

  /**
   * PKCS#8 DER of the key. The caller owns the returned bytes (a secret):
   * zero them (`fill(0)`) when done.
   */
  exportPkcs8(): Uint8Array {
    const addr = this._slot();
    const s = state();
    s.core.rsa_key_get(addr);
    const m = mem();
    const base = s.io + IO_STAGE;
    const ctxN = addr + s.core.layout_slot_ctx_n();
    const kp = new DataView(m.buffer).getInt32(ctxN + s.core.layout_ctx_size(), true);
    const kq = new DataView(m.buffer).getInt32(ctxN + 2 * s.core.layout_ctx_size(), true);
    const nBytes = this.publicKey.byteLength;
    const lens = [
      nBytes,
      4 * Math.ceil(this.publicKey.e.length / 4),
      nBytes,
      4 * kp,
      4 * kq,
      4 * kp,
      4 * kq,
      4 * kp,
    ];
    const views = lens.map((len, i) =>
      _strip(m.subarray(base + i * STAGE_STRIDE, base + i * STAGE_STRIDE + len))
    );
    const c: RsaPrivateComponents = {
      n: views[0],
      e: views[1],
      d: views[2],
      p: views[3],
      q: views[4],
      dP: views[5],
      dQ: views[6],
      qInv: views[7],
    };
    try {
      return encodePkcs8(c);
    } finally {
      m.fill(0, base, base + 8 * STAGE_STRIDE);
    }
  }

  /** Zeroes every byte of the key in the core's memory; later use throws key_destroyed. */
  destroy(): void {
    if (!this.#slot) return;
    const slot = this.#slot;
    this.#slot = undefined;
    _registry.unregister(this);
    if (slot.generation === generation()) freeSlot(slot.addr);
  }
}

function _publicFromSlot(addr: number, e: Uint8Array): RsaPublicKey {
  const s = state();
  const at = addr + s.core.layout_slot_ctx_n();
  const ctx = mem().slice(at, at + s.core.layout_ctx_size());
  const dv = new DataView(ctx.buffer);
  const k = dv.getInt32(0, true);
  const n = new Uint8Array(4 * k);
  for (let i = 0; i < k; i++) {
    const limb = dv.getUint32(64 + 4 * i, true);
    new DataView(n.buffer).setUint32(4 * (k - 1 - i), limb, false);
  }
  return new RsaPublicKey(n, e, ctx);
}

function _checkBytes(x: unknown, what: string): asserts x is Uint8Array {
  if (!(x instanceof Uint8Array)) {
    throw new WasmCryptoError("invalid_argument", `rsa: ${what} must be a Uint8Array`);
  }
}

/** Imports a PKCS#8 DER RSA private key (2048..4096 bits, two primes); checks its consistency. */
export function importPrivateKeyPkcs8(der: Uint8Array): RsaPrivateKey {
  _checkBytes(der, "der");
  const s = state();
  const c = parsePkcs8(der);
  _checkPublic(c.n, c.e);
  const parts = [c.n, c.e, c.d, c.p, c.q, c.dP, c.dQ, c.qInv];
  for (const p of parts) {
    if (p.length > 512) {
      throw new WasmCryptoError("invalid_key", "rsa: key component above 4096 bits");
    }
  }
  const m = mem();
  const base = s.io + IO_STAGE;
  parts.forEach((p, i) => m.set(p, base + i * STAGE_STRIDE));
  const addr = allocSlot();
  const rc = s.core.rsa_key_set(
    addr,
    c.n.length,
    c.e.length,
    c.d.length,
    c.p.length,
    c.q.length,
    c.dP.length,
    c.dQ.length,
    c.qInv.length,
  );
  mem().fill(0, base, base + 8 * STAGE_STRIDE);
  if (rc !== Status.OK) {
    freeSlot(addr);
    throw new WasmCryptoError("invalid_key", "rsa: inconsistent private key");
  }
  return new RsaPrivateKey(addr, _publicFromSlot(addr, c.e));
}

/** Imports an SPKI DER RSA public key (2048..4096 bits). */
export function importPublicKeySpki(der: Uint8Array): RsaPublicKey {
  _checkBytes(der, "der");
  state();
  const c = parseSpki(der);
  return new RsaPublicKey(c.n, c.e);
}

/** Options of {@link generateRsaKey}. */
export interface GenerateOptions {
  /** Called with a fraction in [0, 1] as generation proceeds (an estimate; ends with 1). */
  onProgress?: (fraction: number) => void;
}

/** Miller-Rabin rounds for the primes of an nlen-bit key (FIPS 186-5 Table B.1). */
export function millerRabinRounds(bits: number): number {
  return bits <= 2048 ? 5 : 4;
}

/**
 * Generates an RSA key pair with e = 65537 (FIPS 186-5 B.3.3: random probable
 * primes with the top two bits set, trial division, Miller-Rabin with the
 * rounds of Table B.1, gcd(p-1, e) = 1, |p - q| > 2^(nlen/2 - 100),
 * d = e^-1 mod lcm(p-1, q-1) > 2^(nlen/2)). Randomness: crypto.getRandomValues.
 */
export function generateRsaKey(
  bits: 2048 | 3072 | 4096,
  options: GenerateOptions = {},
): RsaPrivateKey {
  if (bits !== 2048 && bits !== 3072 && bits !== 4096) {
    throw new WasmCryptoError(
      "unsupported_key_size",
      `rsa: cannot generate ${bits}-bit keys (2048, 3072 or 4096)`,
    );
  }
  const onProgress = options.onProgress;
  const s = state();
  const rounds = millerRabinRounds(bits);
  let reported = -1;
  const report = (f: number) => {
    if (!onProgress) return;
    const q = Math.floor(f * 100);
    if (q !== reported) {
      reported = q;
      onProgress(Math.min(1, f));
    }
  };
  if (_generating) {
    throw new WasmCryptoError("invalid_argument", "rsa: a key generation is already running");
  }
  _generating = true;
  try {
    return _generate(bits, rounds, report);
  } finally {
    _generating = false;
    // wipes the primes if generation stopped early (e.g. onProgress threw); harmless otherwise
    s.core.kg_abort();
  }
}

let _generating = false;

function _generate(bits: number, rounds: number, report: (f: number) => void): RsaPrivateKey {
  const s = state();
  const bytes = bits / 16;
  // expected number of random odd candidates per prime: ln(2^(bits/2)) / 2
  const expected = (bits / 2) * Math.LN2 / 2;
  report(0);
  for (;;) {
    if (s.core.kg_round2) {
      _searchTwoLanes(bits, rounds, expected, report);
    } else {
      for (let which = 0; which < 2; which++) {
        for (let tries = 1;; tries++) {
          randomIo(IO_IN, bytes);
          randomIo(IO_RAND, rounds * bytes);
          if (s.core.kg_candidate!(which, bits, rounds) === 1) break;
          report(0.5 * which + 0.5 * 0.98 * (1 - Math.exp(-tries / expected)));
        }
        report(0.5 * (which + 1) * 0.99);
      }
    }
    const addr = allocSlot();
    const rc = s.core.kg_finish(addr, bits);
    if (rc === Status.OK) {
      const key = new RsaPrivateKey(addr, _publicFromSlot(addr, new Uint8Array([1, 0, 1])));
      report(1);
      return key;
    }
    freeSlot(addr);
    if (rc !== Status.KG_RETRY) {
      throw new WasmCryptoError("internal", `rsa: key generation status ${rc}`);
    }
  }
}

/**
 * The relaxed build's prime search (assembly/keygen.ts, two-lane Miller-Rabin): each lane
 * holds a fresh candidate that passed trial division; one kg_round2 runs a Miller-Rabin
 * round on both in the two-lane kernel; a lane whose candidate fails is refilled with the
 * next fresh candidate, and a candidate that passes all `rounds` becomes p, then q (with
 * the |p - q| check). Every candidate is fresh randomness and meets the same conditions
 * as in kg_candidate (FIPS 186-5 B.3.3); only the order of the work differs.
 */
function _searchTwoLanes(
  bits: number,
  rounds: number,
  expected: number,
  report: (f: number) => void,
): void {
  const core = state().core;
  const sieve = core.kg_sieve!, round2 = core.kg_round2!, accept = core.kg_accept!;
  const bytes = bits / 16;
  const passed = [0, 0], live = [false, false];
  let found = 0, tries = 0;
  while (found < 2) {
    for (let lane = 0; lane < 2; lane++) {
      while (!live[lane]) {
        randomIo(IO_IN, bytes);
        tries++;
        if (sieve(lane, bits) === 1) {
          live[lane] = true;
          passed[lane] = 0;
        }
      }
    }
    randomIo(IO_RAND, 2 * bytes);
    const pass = round2(bits);
    for (let lane = 0; lane < 2; lane++) {
      if ((pass >> lane & 1) === 0) {
        live[lane] = false; // composite: the core zeroed the lane
      } else if (++passed[lane] === rounds && found < 2) {
        live[lane] = false;
        if (accept(lane, found, bits) === 1) {
          found++;
          tries = 0;
        }
      }
    }
    report(0.5 * found + 0.5 * 0.98 * (1 - Math.exp(-tries / expected)));
  }
  // a lane may hold a candidate still: kg_finish and kg_abort wipe it with p and q
}
