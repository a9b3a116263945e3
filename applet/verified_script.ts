/// <reference lib="dom" />
/**
 * Script bytes checked with Subresource Integrity before they run as a worker
 * (docs/applet.md, server/secure_headers.ts "Why `worker-src blob:`"): the page names a
 * content-addressed path and its SHA-384 in a `<meta>` written by the build's link step;
 * {@link verifiedScriptUrl} fetches the path with `fetch(url, { integrity })` and returns
 * a `blob:` URL of the verified bytes, from which the caller starts the worker (and then
 * revokes the URL). `new Worker(url)` itself has no integrity check.
 *
 * The signing worker (`ui/worker_client.ts`), the strength worker and the document
 * worker all start through this module.
 *
 * @module
 */

const _SCRIPT_PATH = /^\/applet\/[0-9a-f]{64}\.js$/;
const _SRI_SHA384 = /^sha384-[A-Za-z0-9+/]{64}$/;

/** Why a script could not be had; `code` is `applet_tampered` or `applet_unavailable`. */
export class ScriptError extends Error {
  readonly code: "applet_tampered" | "applet_unavailable";
  constructor(code: "applet_tampered" | "applet_unavailable", message: string) {
    super(message);
    this.name = "ScriptError";
    this.code = code;
  }
}

/** The path and SRI hash in `<meta name="{name}" content="/applet/…js" data-integrity>`. */
export function scriptSource(name: string): { path: string; integrity: string } {
  const meta = document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`);
  const path = meta?.content ?? "";
  const integrity = meta?.dataset.integrity ?? "";
  if (!_SCRIPT_PATH.test(path) || !_SRI_SHA384.test(integrity)) {
    throw new ScriptError("applet_tampered", `The page does not name a valid ${name} script.`);
  }
  return { path, integrity };
}

/**
 * Fetches `path` with Subresource Integrity and returns a `blob:` URL of the verified
 * bytes. A body whose SHA-384 is not `integrity` is refused by the browser; a second
 * request without integrity then tells a changed file (`applet_tampered`) from an
 * unreachable one (`applet_unavailable`).
 */
export async function verifiedScriptUrl(path: string, integrity: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(path, { integrity, redirect: "error" });
  } catch {
    const reachable = await fetch(path, { method: "HEAD", redirect: "error" })
      .then((r) => r.ok, () => false);
    throw reachable
      ? new ScriptError("applet_tampered", `${path} does not match the page's build.`)
      : new ScriptError("applet_unavailable", `${path} could not be loaded.`);
  }
  if (!res.ok) throw new ScriptError("applet_unavailable", `${path} could not be loaded.`);
  const blob = new Blob([await res.arrayBuffer()], { type: "text/javascript" });
  return URL.createObjectURL(blob);
}

interface _TrustedTypes {
  createPolicy(
    name: string,
    rules: { createScriptURL(url: string): string },
  ): { createScriptURL(url: string): unknown };
}

/**
 * A Trusted Types policy named `policyName` (listed in the CSP's `trusted-types`) that
 * accepts exactly the one `blob:` URL being started and nothing else, so no other code on
 * the page can start a worker from its own bytes; returns the function that starts a
 * module worker from a verified URL ({@link verifiedScriptUrl}) through it. Call once per
 * policy name, at module load.
 */
export function verifiedWorkerStarter(
  policyName: string,
  what: string,
): (url: string, name: string) => Worker {
  let allowed: string | null = null;
  const policy = (globalThis as { trustedTypes?: _TrustedTypes }).trustedTypes?.createPolicy(
    policyName,
    {
      createScriptURL(url: string) {
        if (url !== allowed) throw new TypeError(`roamsign: not the verified ${what}`);
        return url;
      },
    },
  );
  return (url, name) => {
    allowed = url;
    try {
      const scriptUrl = policy ? policy.createScriptURL(url) : url;
      return new Worker(scriptUrl as string, { type: "module", name });
    } finally {
      allowed = null;
    }
  };
}
