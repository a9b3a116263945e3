/**
 * The confirmation of a pending key record (docs/lifecycle.md, "Pending key record"). A
 * `registration.update` is stored as pending; a sign-in releases it beside the current
 * record, and only the applet can tell whether it opens. When it does, the applet sends
 * `login.confirm` with
 *
 * ```
 * mac = HMAC-SHA256(OPAQUE session key of that sign-in,
 *                   "roamsign/pending-record/v1\0" ‖ identity ‖ "\0" ‖ loginId ‖ "\0" ‖
 *                   SHA-256(canonical JSON of the pending record))
 * ```
 *
 * The session key is known to the vault and to whoever completed the OPAQUE login (who
 * knows the pass phrase), never to the web server that relays it; so neither a relay
 * nor a thief at a signed-in applet can make garbage current. Browser-safe.
 *
 * @module
 */
import { b64uDecode } from "./base64url.ts";
import { concat, sha256, utf8, wipe } from "./bytes.ts";
import { canonicalJson } from "./user_request.ts";

/**
 * The MAC that confirms `pendingRecord` (the record as released, parsed or as canonical
 * JSON text) for the login `loginId` of `identity`. `sessionKey` is OPAQUE's session key
 * as the library gives it (base64url); its decoded bytes are wiped here.
 */
export async function pendingConfirmMac(
  sessionKey: string,
  identity: string,
  loginId: string,
  pendingRecord: unknown,
): Promise<Uint8Array> {
  const text = typeof pendingRecord === "string" ? pendingRecord : canonicalJson(pendingRecord);
  const keyBytes = b64uDecode(sessionKey.replace(/=+$/, ""));
  try {
    const key = await crypto.subtle.importKey(
      "raw",
      keyBytes as BufferSource,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const data = concat(
      utf8("roamsign/pending-record/v1\0"),
      utf8(identity),
      utf8("\0"),
      utf8(loginId),
      utf8("\0"),
      await sha256(utf8(text)),
    );
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, data as BufferSource));
  } finally {
    wipe(keyBytes);
  }
}
