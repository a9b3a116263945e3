/**
 * A load-generator worker of the `load` suite (bench/load.ts): simulated users that run
 * the applet's own protocol code (applet/protocol/flows.ts, session.ts, channel.ts with
 * wasm-crypto and `@serenity-kit/opaque`) from Deno, each from its own loopback address
 * (127.x.y.z through a `Deno.HttpClient` bound to it), as a browser on its own address
 * would be.
 *
 * Messages (main → worker): `init`, `apply`, `consent`, `run`; every one is answered by a
 * message of the same `type` (or `{ type: "error", message }`).
 *
 * Test-only: the load server's vault sets LIGHT_KSF (harness/user.ts; bench/load_server.ts),
 * and users accept it with `ksfFloor: LIGHT_KSF` — the only way below KSF_FLOOR. The
 * applet's worker never passes a floor, so the applet refuses such a vault (`weak_ksf`).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import * as opaque from "@serenity-kit/opaque";
import { initWasmCrypto } from "../wasm-crypto/mod.ts";
import { type Anchors, parseAnchors } from "../protocol/mod.ts";
import {
  applyToRegister,
  forget,
  giveConsent,
  signAndSubmit,
  type SignedIn,
  signIn,
  wasmSessionCrypto,
} from "../applet/mod.ts";
import { Session } from "../applet/mod.ts";
import { utf8 } from "../protocol/mod.ts";
import type { Registration } from "../protocol/mod.ts";
import { LIGHT_KSF } from "../harness/mod.ts";

/** A simulated user as the worker gets it. */
export interface LoadUser {
  registration: Registration;
  passphrase: string;
  /** Loopback address the user's connections come from. */
  address: string;
  phrase?: string;
}

/** The steps of a journey, timed at the client. */
export const STEPS = ["session", "signIn", "submit", "close"] as const;
export type Step = typeof STEPS[number];

/** One finished journey: epoch start time and step durations (ms); `ok` false if it failed. */
export interface JourneyRecord {
  t0: number;
  /** Epoch ms when each step ended (absent when it did not end). */
  ends: Partial<Record<Step, number>>;
  ms: Partial<Record<Step, number>>;
  ok: boolean;
}

/** An error a journey (or setup) met. */
export interface LoadError {
  at: number;
  step: string;
  code: string;
  message: string;
  identity: string;
}

export type WorkerRequest =
  | {
    type: "init";
    webUrl: string;
    /** Several web servers: every request goes to the next one (round robin, no affinity). */
    webUrls?: string[];
  }
  | { type: "apply"; users: LoadUser[]; concurrency: number }
  | { type: "consent"; users: LoadUser[]; concurrency: number }
  | {
    type: "run";
    users: LoadUser[];
    concurrency: number;
    /** Epoch ms: no journey starts at or after this. */
    until: number;
    /** A user starts at most one journey per this many ms (per-address sign-in limit). */
    userIntervalMs: number;
  };

export type WorkerReply =
  | { type: "init" }
  | { type: "apply"; errors: LoadError[] }
  | { type: "consent"; errors: LoadError[] }
  | { type: "run"; journeys: JourneyRecord[]; errors: LoadError[] }
  | { type: "error"; message: string };

const _now = () => performance.timeOrigin + performance.now();

let _webUrl = "";
let _webUrls: string[] = [];
let _turn = 0;
/** The anchors of the stack under load (its applet's manifest: the bench trusts its own stack). */
let _anchors: Anchors | null = null;
const _clients = new Map<string, { client: Deno.HttpClient; fetch: typeof fetch }>();

function _fetchFor(address: string): typeof fetch {
  let c = _clients.get(address);
  if (!c) {
    const client = Deno.createHttpClient({ localAddress: address });
    const f = ((input: RequestInfo | URL, init?: RequestInit) =>
      fetch(_balanced(input), { ...init, client })) as typeof fetch;
    c = { client, fetch: f };
    _clients.set(address, c);
  }
  return c.fetch;
}

/** The request sent to the next web server when there are several (a string URL). */
function _balanced(input: RequestInfo | URL): RequestInfo | URL {
  if (_webUrls.length < 2 || typeof input !== "string" || !input.startsWith(_webUrl)) return input;
  const base = _webUrls[_turn++ % _webUrls.length];
  return base + input.slice(_webUrl.length);
}

function _open(user: LoadUser): Promise<Session> {
  return Session.open({
    baseUrl: _webUrl,
    crypto: wasmSessionCrypto,
    anchors: _anchors!,
    fetch: _fetchFor(user.address),
  });
}

function _error(step: string, user: LoadUser, err: unknown): LoadError {
  const e = err as { code?: unknown; message?: unknown; status?: unknown };
  return {
    at: _now(),
    step,
    code: typeof e?.code === "string" ? e.code : (err as Error)?.name ?? "error",
    message: `${typeof e?.message === "string" ? e.message : String(err)}${
      typeof e?.status === "number" && e.status ? ` (HTTP ${e.status})` : ""
    }`,
    identity: user.registration.identity,
  };
}

async function _pool<T>(items: T[], concurrency: number, fn: (x: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function _apply(users: LoadUser[], concurrency: number): Promise<LoadError[]> {
  const errors: LoadError[] = [];
  await _pool(users, concurrency, async (user) => {
    let s: Session | undefined;
    try {
      s = await _open(user);
      const r = await applyToRegister(s, {
        registration: user.registration,
        passphrase: utf8(user.passphrase),
        bits: 2048,
        ksfFloor: LIGHT_KSF, // test-only (see the module doc)
      });
      if (r.status !== "pending") throw new Error(`apply answered ${r.status}`);
    } catch (err) {
      errors.push(_error("apply", user, err));
    } finally {
      await s?.close();
    }
  });
  return errors;
}

async function _consent(users: LoadUser[], concurrency: number): Promise<LoadError[]> {
  const errors: LoadError[] = [];
  await _pool(users, concurrency, async (user) => {
    let s: Session | undefined;
    try {
      s = await _open(user);
      const r = await giveConsent(s, { registration: user.registration, phrase: user.phrase! });
      if (r.status !== "active") throw new Error(`consent answered ${r.status}`);
    } catch (err) {
      errors.push(_error("consent", user, err));
    } finally {
      await s?.close();
    }
  });
  return errors;
}

/**
 * One journey: new session (offer + KS) → OPAQUE sign-in, key record decrypted and
 * checked → a message signed with wasm-crypto and submitted (the web server verifies it
 * against the directory certificate) → session closed, SKu forgotten.
 */
async function _journey(user: LoadUser, n: number, errors: LoadError[]): Promise<JourneyRecord> {
  const rec: JourneyRecord = { t0: _now(), ends: {}, ms: {}, ok: false };
  let step: Step = "session";
  let last = rec.t0;
  const mark = (s: Step) => {
    const t = _now();
    rec.ends[s] = t;
    rec.ms[s] = t - last;
    last = t;
  };
  let s: Session | undefined;
  let signed: SignedIn | null = null;
  try {
    s = await _open(user);
    mark("session");
    step = "signIn";
    signed = await signIn(s, {
      identity: user.registration.identity,
      passphrase: utf8(user.passphrase),
      ksfFloor: LIGHT_KSF, // test-only (see the module doc)
    });
    mark("signIn");
    step = "submit";
    const message = utf8(`load journey ${n} of ${user.registration.identity} at ${rec.t0}`);
    const r = await signAndSubmit(s, signed, message);
    if (!r.verified) throw new Error("the server did not verify the signature");
    mark("submit");
    step = "close";
    forget(signed);
    signed = null;
    await s.close();
    s = undefined;
    mark("close");
    rec.ok = true;
  } catch (err) {
    errors.push(_error(step, user, err));
  } finally {
    forget(signed);
    if (s) await s.close().catch(() => {});
  }
  return rec;
}

async function _run(req: Extract<WorkerRequest, { type: "run" }>) {
  const journeys: JourneyRecord[] = [];
  const errors: LoadError[] = [];
  // Users wait in a queue ordered by when they may start again.
  const queue = req.users.map((user) => ({ user, readyAt: 0 }));
  let n = 0;
  const loop = async () => {
    while (_now() < req.until) {
      const slot = queue.shift();
      if (!slot) return; // more loops than users: this one has nothing to do
      const wait = slot.readyAt - _now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (_now() >= req.until) {
        queue.unshift(slot);
        return;
      }
      const started = _now();
      const rec = await _journey(slot.user, n++, errors);
      journeys.push(rec);
      slot.readyAt = started + req.userIntervalMs;
      queue.push(slot);
      if (!rec.ok) await new Promise((r) => setTimeout(r, 50)); // no hot spin on failures
    }
  };
  await Promise.all(Array.from({ length: req.concurrency }, loop));
  return { journeys, errors };
}

async function _handle(req: WorkerRequest): Promise<WorkerReply> {
  switch (req.type) {
    case "init":
      _webUrl = req.webUrl;
      _webUrls = req.webUrls ?? [];
      _anchors = parseAnchors(
        (await (await fetch(`${_webUrl}/.well-known/roamsign/manifest.json`)).json()).anchors,
      );
      await initWasmCrypto();
      await opaque.ready;
      return { type: "init" };
    case "apply":
      return { type: "apply", errors: await _apply(req.users, req.concurrency) };
    case "consent":
      return { type: "consent", errors: await _consent(req.users, req.concurrency) };
    case "run":
      return { type: "run", ...(await _run(req)) };
  }
}

self.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  try {
    self.postMessage(await _handle(e.data));
  } catch (err) {
    self.postMessage({ type: "error", message: String((err as Error)?.stack ?? err) });
  }
};
