/**
 * One signed hop upstream (web server or admin CLI → proxy, proxy → vault): a JSON POST
 * with a timeout whose timer is cleared as soon as the answer has been read
 * (`AbortSignal.timeout` would stay armed for the whole timeout after every request).
 *
 * @module
 */
import type { ApiError } from "./errors.ts";

/**
 * POSTs `body` to `url` and hands the response to `read` while the timeout still runs.
 * A transport failure becomes `fail(timedOut)`; errors thrown by `read` pass through.
 */
export async function postUpstream<T>(
  url: string,
  headers: Record<string, string>,
  body: Uint8Array<ArrayBuffer>,
  timeoutMs: number,
  read: (res: Response) => Promise<T>,
  fail: (timedOut: boolean) => ApiError,
): Promise<T> {
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new DOMException("upstream timeout", "TimeoutError")),
    timeoutMs,
  );
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body,
        signal: abort.signal,
      });
    } catch (err) {
      throw fail(err instanceof DOMException && err.name === "TimeoutError");
    }
    return await read(res);
  } finally {
    clearTimeout(timer);
  }
}
