/**
 * Shared helpers of the wasm-crypto tests: hex and BigInt conversion, the
 * Wycheproof directory, the `openssl` CLI, WebCrypto key material.
 *
 * @module
 */
import { initWasmCrypto } from "./mod.ts";
import { encodePkcs8 } from "./der.ts";

await initWasmCrypto();

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function unhex(s: string): Uint8Array {
  if (s.length % 2) throw new Error("odd hex");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt("0x" + hex(b));
}

export function fromBig(x: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  if (x !== 0n) throw new Error("fromBig: value does not fit");
  return out;
}

/** BigInt modular exponentiation (the oracle). */
export function powBig(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n % m;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** Integer cube root, rounded down. */
export function icbrt(x: bigint): bigint {
  if (x < 2n) return x;
  let r = 1n << BigInt(Math.ceil(x.toString(2).length / 3));
  for (;;) {
    const next = (2n * r + x / (r * r)) / 3n;
    if (next >= r) break;
    r = next;
  }
  while (r * r * r > x) r--;
  while ((r + 1n) ** 3n <= x) r++;
  return r;
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

export function randomInt(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

/** The Wycheproof vectors: WYCHEPROOF_DIR, or the first shared/vectors/wycheproof above this file. */
export async function wycheproofDir(): Promise<string> {
  const env = Deno.env.get("WYCHEPROOF_DIR");
  if (env) return env;
  let dir = new URL(".", import.meta.url);
  for (let i = 0; i < 12; i++) {
    const candidate = new URL("shared/vectors/wycheproof/", dir);
    try {
      if ((await Deno.stat(candidate)).isDirectory) return candidate.pathname;
    } catch { /* keep walking up */ }
    const parent = new URL("../", dir);
    if (parent.href === dir.href) break;
    dir = parent;
  }
  throw new Error(
    "Wycheproof vectors not found: set WYCHEPROOF_DIR or add ../shared/vectors/wycheproof",
  );
}

// deno-lint-ignore no-explicit-any
export async function wycheproof(name: string): Promise<any> {
  return JSON.parse(await Deno.readTextFile(`${await wycheproofDir()}/${name}`));
}

/** Runs `openssl` with args (and stdin); returns stdout, throws with stderr on failure. */
export async function openssl(args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const cmd = new Deno.Command("openssl", {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

/** Like {@link openssl} but returns whether it exited 0. */
export async function opensslOk(args: string[]): Promise<boolean> {
  const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "null" }).output();
  return out.success;
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "roamsign-wasm-crypto-" });
  return { path, cleanup: () => Deno.remove(path, { recursive: true }) };
}

/** A WebCrypto RSA key pair (2048 bits by default) with its PKCS#8 and SPKI. */
export async function webCryptoKey(
  name: "RSASSA-PKCS1-v1_5" | "RSA-PSS" | "RSA-OAEP",
  hash: "SHA-256" | "SHA-1" = "SHA-256",
  modulusLength = 2048,
): Promise<{ pair: CryptoKeyPair; pkcs8: Uint8Array; spki: Uint8Array }> {
  const usages: KeyUsage[] = name === "RSA-OAEP" ? ["encrypt", "decrypt"] : ["sign", "verify"];
  const pair = await crypto.subtle.generateKey(
    { name, modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash },
    true,
    usages,
  ) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  return { pair, pkcs8, spki };
}

export function pem(label: string, der: Uint8Array): string {
  let b64 = "";
  const s = btoa(String.fromCharCode(...der));
  for (let i = 0; i < s.length; i += 64) b64 += s.slice(i, i + 64) + "\n";
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/** Whether `needle` occurs anywhere in `hay`. */
export function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0) return true;
  const first = needle[0];
  for (
    let i = hay.indexOf(first);
    i !== -1 && i <= hay.length - needle.length;
    i = hay.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return true;
  }
  return false;
}

/** Set ROAMSIGN_SLOW_TESTS=1 to run the `[slow]` tests (`deno task test:slow`). */
export const RUN_SLOW = Deno.env.get("ROAMSIGN_SLOW_TESTS") === "1";

/** Registers a slow test: its name starts with `[slow]`; ignored unless RUN_SLOW. */
export function slowTest(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name: `[slow] ${name}`, ignore: !RUN_SLOW, fn });
}

/** x^-1 mod m by the extended Euclid (BigInt, test oracle). */
export function invBig(x: bigint, m: bigint): bigint {
  let [a, b, u, v] = [x % m, m, 1n, 0n];
  while (a !== 0n) {
    const q = b / a;
    [a, b] = [b - q * a, a];
    [u, v] = [v - q * u, u];
  }
  return ((v % m) + m) % m;
}

/**
 * A 2048-bit key (PKCS#8) whose primes have different limb counts, p of 1100 bits and q
 * of 948 (from `openssl prime`), so that the core takes the general CRT path.
 */
export async function unbalancedKey(): Promise<
  { pkcs8: Uint8Array; n: bigint; e: bigint; d: bigint }
> {
  const prime = async (bits: number) =>
    BigInt(
      new TextDecoder().decode(await openssl(["prime", "-generate", "-bits", String(bits)])).trim(),
    );
  const e = 65537n;
  let p = 0n, q = 0n;
  do {
    p = await prime(1100);
    q = await prime(948);
  } while ((p - 1n) % e === 0n || (q - 1n) % e === 0n || (p * q).toString(2).length !== 2048);
  const n = p * q;
  const d = invBig(e, (p - 1n) * (q - 1n));
  const bytes = (x: bigint) => fromBig(x, Math.ceil(x.toString(16).length / 2));
  const pkcs8 = encodePkcs8({
    n: bytes(n),
    e: bytes(e),
    d: bytes(d),
    p: bytes(p),
    q: bytes(q),
    dP: bytes(d % (p - 1n)),
    dQ: bytes(d % (q - 1n)),
    qInv: bytes(invBig(q, p)),
  });
  return { pkcs8, n, e, d };
}
