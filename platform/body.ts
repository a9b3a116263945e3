/**
 * Reads a request body up to a limit, without buffering more than the limit: the
 * Content-Length is checked first, then the stream is counted as it arrives.
 * Throws 413 `body_too_large`.
 *
 * @module
 */
import { ApiError } from "./errors.ts";

/** The body bytes, at most `max`. */
export async function readBody(req: Request, max: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > max) {
    await req.body?.cancel().catch(() => {});
    throw new ApiError(413, "body_too_large", `body over ${max} bytes`);
  }
  if (!req.body) return new Uint8Array(0);
  // Declared and within the limit: the runtime holds the body to its declared length.
  if (declared !== null) return new Uint8Array(await req.arrayBuffer());
  const reader = req.body.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new ApiError(413, "body_too_large", `body over ${max} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
