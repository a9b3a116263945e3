/**
 * The web server's side of the host application (DESIGN.md §2.8): it fetches and
 * serves the host's public certificates, and routes sealed messages to the host
 * and the host's sealed answers back. It never sees what they contain: the host
 * session key is wrapped under the host's own PUB(c,h) (docs/host-bank.md).
 *
 * Nothing about a message is logged except its size and the host's answer code.
 *
 * @module
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { CURRENCY_PATTERN, SIGNED_IN_HEADER } from "../protocol/mod.ts";
import { ApiError } from "../platform/mod.ts";
import { log } from "../platform/mod.ts";
import type { HostEnvelope, HostKeys, HostReply } from "../protocol/mod.ts";

/** The host as the web server sees it. */
export interface HostRelay {
  /** The host's name, certificates and currency (cached 5 minutes). */
  keys(): Promise<HostKeys>;
  /**
   * Routes a sealed message sent by the session signed in as `signedIn`; resolves with
   * the sealed answer, rejects with {@link ApiError}. The bank acts only on an
   * instruction whose signer is that identity (docs/host-bank.md).
   */
  submit(envelope: HostEnvelope, signedIn: string): Promise<HostReply>;
}

/** Options of {@link createHostRelay}. */
export interface HostRelayOptions {
  /** Base URL of the host, e.g. `http://127.0.0.1:8003`. */
  url: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

const _KEYS_TTL_MS = 5 * 60_000;
const _B64U = /^[A-Za-z0-9_-]+$/;

function _unavailable(): ApiError {
  return new ApiError(503, "host_unavailable", "the bank is not reachable; try again");
}

/** A relay to the host at `options.url`. */
export function createHostRelay(options: HostRelayOptions): HostRelay {
  const base = options.url.replace(/\/+$/, "");
  const f = options.fetch ?? fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? (() => Date.now());
  let cache: { keys: HostKeys; at: number } | null = null;

  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    try {
      return await f(`${base}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      if (err instanceof DOMException && err.name === "TimeoutError") {
        throw new ApiError(504, "host_timeout", "the bank did not answer in time");
      }
      throw _unavailable();
    }
  };

  return {
    async keys() {
      if (cache && now() - cache.at < _KEYS_TTL_MS) return cache.keys;
      const res = await request("/v1/keys");
      const body = await res.json().catch(() => null) as HostKeys | null;
      if (
        !res.ok || !body || typeof body.name !== "string" ||
        typeof body.integrityCert !== "string" || typeof body.confidentialityCert !== "string" ||
        typeof body.currency !== "string" || !CURRENCY_PATTERN.test(body.currency)
      ) {
        log("warn", "host_keys_unavailable", { status: res.status });
        throw _unavailable();
      }
      const keys = {
        name: body.name,
        integrityCert: body.integrityCert,
        confidentialityCert: body.confidentialityCert,
        currency: body.currency,
      };
      cache = { keys, at: now() };
      return keys;
    },

    async submit(envelope, signedIn) {
      const started = performance.now();
      const res = await request("/v1/messages", {
        method: "POST",
        headers: { "content-type": "application/json", [SIGNED_IN_HEADER]: signedIn },
        body: JSON.stringify({ key: envelope.key, iv: envelope.iv, ct: envelope.ct }),
      });
      const body = await res.json().catch(() => null) as
        | (HostReply & { error?: { code?: unknown; message?: unknown } })
        | null;
      log("info", "host_routed", {
        bytes: envelope.ct.length,
        status: res.status,
        ms: Math.round(performance.now() - started),
      });
      if (res.status >= 400 && res.status < 500 && typeof body?.error?.code === "string") {
        throw new ApiError(
          res.status as ContentfulStatusCode,
          body.error.code,
          typeof body.error.message === "string" ? body.error.message : "refused by the bank",
        );
      }
      if (
        !res.ok || !body || typeof body.iv !== "string" || typeof body.ct !== "string" ||
        !_B64U.test(body.iv) || !_B64U.test(body.ct)
      ) {
        throw _unavailable();
      }
      return { iv: body.iv, ct: body.ct };
    },
  };
}
