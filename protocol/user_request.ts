/**
 * Requests a user signs with SKu (docs/architecture.md, "Signed user requests"):
 * `apply` (its `pop`), `registration.update`, `reregister`, the user's `revoke`, and the
 * passkey operations `passkey.register.finish`, `passkey.remove`, `keyrecord.upgrade`.
 *
 *   signed bytes = UTF-8(JSON.stringify(["roamsign/request/v1", op, identity, nonce,
 *                                        hex(SHA-256(canonicalJson(payload)))]))
 *   payload      = the request body without its signature field (`signature`, or `pop`
 *                  for `apply`)
 *   signature    = RSASSA-PKCS1-v1_5 with SHA-256, base64url
 *
 * `canonicalJson` sorts object keys (UTF-16 order, as RFC 8785) and writes no
 * whitespace; our bodies hold only strings, integers, booleans, arrays and objects,
 * for which this matches RFC 8785 JCS. Pure WebCrypto: the applet, the vault and
 * tests share it.
 *
 * @module
 */
async function _sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The operations whose body is signed by the user, and the name of the signature field. */
export const SIGNED_FIELD = {
  apply: "pop",
  "registration.update": "signature",
  reregister: "signature",
  revoke: "signature",
  "passkey.register.finish": "signature",
  "passkey.remove": "signature",
  "keyrecord.upgrade": "signature",
} as const;

/** An operation a user signs. */
export type SignedOp = keyof typeof SIGNED_FIELD;

/** Canonical JSON text of a value made of strings, finite numbers, booleans, null, arrays, objects. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "string" || typeof value === "boolean") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error("canonicalJson: non-finite number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new Error(`canonicalJson: unsupported ${typeof value}`);
}

/** The body without its signature field. */
export function signedPayload(
  op: SignedOp,
  body: Record<string, unknown>,
): Record<string, unknown> {
  const { [SIGNED_FIELD[op]]: _sig, ...rest } = body;
  return rest;
}

/** The bytes the user signs for `op` (see the module doc). */
export async function userRequestBytes(
  op: SignedOp,
  identity: string,
  nonce: string,
  body: Record<string, unknown>,
): Promise<Uint8Array> {
  const payloadHash = await _sha256Hex(
    new TextEncoder().encode(canonicalJson(signedPayload(op, body))),
  );
  return new TextEncoder().encode(
    JSON.stringify(["roamsign/request/v1", op, identity, nonce, payloadHash]),
  );
}
