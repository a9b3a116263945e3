/**
 * The size limits both ends check (docs/session-channel.md "Size limits"): the web
 * server's body limit on `/api/*`, and the largest message `message.submit` carries. The
 * server refuses what is over them; the applet checks the same numbers before it seals
 * anything, shows the room left, and refuses locally (`message_too_long`), so a limit is
 * met in the page and never as a refused request.
 *
 * The field limits of registration data are `REGISTRATION_LIMITS` (registration.ts), those
 * of a debit instruction `INSTRUCTION_LIMITS` (host.ts).
 *
 * @module
 */

/** The largest request body the web server reads on `/api/*` (and the bank on its API). */
export const RPC_BODY_MAX_BYTES = 256 * 1024;

/**
 * The largest message to sign, in bytes of its UTF-8 text: 64 KiB. A `message.submit`
 * carrying this much, with the longest signature the server takes, seals into a body of
 * about 115 KiB, well under {@link RPC_BODY_MAX_BYTES} (limits_test.ts checks it): the
 * message limit is always the one a user meets, never the body limit.
 */
export const MESSAGE_MAX_BYTES = 65_536;

/**
 * The largest document the applet signs (docs/documents.md): 25 MiB. Only its hashes
 * travel, so this bounds the browser's memory (a PDF is held and parsed whole), not a
 * request.
 */
export const DOCUMENT_MAX_BYTES = 25 * 1024 * 1024;

/** Length of the base64url text (no padding) of `bytes` bytes. */
export function b64uLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

/**
 * Bytes of the UTF-8 encoding of `text`, without encoding it (an unpaired surrogate counts
 * 3, as `TextEncoder` writes U+FFFD for it).
 */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Room left for a message typed as `text`: {@link MESSAGE_MAX_BYTES} minus its UTF-8
 * length, negative when it is over. One per plain (ASCII) character; accented letters
 * take 2, most other scripts 3, emoji 4.
 */
export function messageRoom(text: string): number {
  return MESSAGE_MAX_BYTES - utf8Length(text);
}

/** The plain-language refusal of a message over {@link MESSAGE_MAX_BYTES}. */
export const MESSAGE_TOO_LONG_TEXT =
  "The message is too long: at most 65,536 bytes (64 KiB) can be signed. " +
  "Shorten it, or sign it in parts.";
