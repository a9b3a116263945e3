/**
 * The applet's protocol code run from Deno (same modules as the worker):
 * set-up steps that would be slow or beside the point in a browser, and the
 * oracle that fetches a user's private key for the heap-snapshot check.
 *
 * @module
 */
import { initWasmCrypto } from "../../wasm-crypto/mod.ts";
import { type Anchors, parseAnchors } from "../../protocol/mod.ts";
import * as opaque from "@serenity-kit/opaque";
import {
  applyToRegister,
  forget,
  giveConsent,
  type SignedIn,
  signIn,
  wasmSessionCrypto,
} from "../../applet/mod.ts";
import type { KsfParams } from "../../protocol/mod.ts";
import { Session } from "../../applet/mod.ts";
import { utf8 } from "../../protocol/mod.ts";
import type { Registration } from "../../protocol/mod.ts";
import { LIGHT_KSF } from "../../harness/mod.ts";
import { consentPhraseFor, newUser } from "./_applet.ts";

let _ready: Promise<void> | null = null;

/** Initialises wasm-crypto and OPAQUE once per process. */
export function ready(): Promise<void> {
  _ready ??= (async () => {
    await initWasmCrypto();
    await opaque.ready;
  })();
  return _ready;
}

const _anchors = new Map<string, Promise<Anchors>>();

/**
 * The anchors the applet of the web server at `webUrl` was linked with, read from its
 * manifest. Tests trust the stack they started themselves; the applet never does this
 * (its anchors are compiled in), and the attack tests pass their own.
 */
export function anchorsOf(webUrl: string): Promise<Anchors> {
  let a = _anchors.get(webUrl);
  if (!a) {
    a = fetch(`${webUrl}/.well-known/roamsign/manifest.json`)
      .then((r) => r.json())
      .then((m) => parseAnchors(m.anchors));
    _anchors.set(webUrl, a);
    a.catch(() => _anchors.delete(webUrl));
  }
  return a;
}

/** Opens a channel to a web server. */
export async function session(webUrl: string): Promise<Session> {
  await ready();
  return await Session.open({
    baseUrl: webUrl,
    crypto: wasmSessionCrypto,
    anchors: await anchorsOf(webUrl),
  });
}

/**
 * Applies to register from Deno, with the stretching the stack's vault sets; `ksfFloor`:
 * accept a vault that stretches less than the applet would (tests only).
 */
export async function applyFromDeno(
  webUrl: string,
  r: Registration,
  passphrase: string,
  ksfFloor?: KsfParams,
) {
  const s = await session(webUrl);
  try {
    return await applyToRegister(s, {
      registration: r,
      passphrase: utf8(passphrase),
      bits: 2048,
      ...(ksfFloor ? { ksfFloor } : {}),
    });
  } finally {
    await s.close();
  }
}

/** Gives consent from Deno. */
export async function consentFromDeno(webUrl: string, r: Registration, phrase: string) {
  const s = await session(webUrl);
  try {
    return await giveConsent(s, { registration: r, phrase });
  } finally {
    await s.close();
  }
}

/** Signs in from Deno and returns SKu's PKCS#8 bytes (the caller wipes them). */
export async function privateKeyOf(
  webUrl: string,
  identity: string,
  passphrase: string,
): Promise<Uint8Array> {
  const s = await session(webUrl);
  try {
    const user = await signIn(s, { identity, passphrase: utf8(passphrase) });
    try {
      return user.key.exportPkcs8();
    } finally {
      forget(user);
    }
  } finally {
    await s.close();
  }
}

/** A Deno client signed in through the web server: its session and SKu (the caller forgets). */
export async function signedIn(
  webUrl: string,
  identity: string,
  passphrase: string,
  ksfFloor?: KsfParams,
): Promise<{ session: Session; user: SignedIn }> {
  const s = await session(webUrl);
  try {
    const user = await signIn(s, { identity, passphrase: utf8(passphrase), ksfFloor });
    return { session: s, user };
  } catch (err) {
    await s.close();
    throw err;
  }
}

/**
 * A new active user made from Deno through the web server of `stack`: applies (the light
 * stretching, `LIGHT_KSF`, that test stacks' vaults set by default), reads the consent letter with the operator CLI and consents.
 * Returns the identity and the pass phrase.
 */
export async function activeUserFromDeno(
  stack: { webUrl?: string; dataDir: string; proxyUrl: string },
  prefix: string,
): Promise<{ id: string; pass: string }> {
  const r = newUser(prefix);
  const pass = `pass phrase of ${r.identity}`;
  await applyFromDeno(stack.webUrl!, r, pass, LIGHT_KSF);
  await consentFromDeno(stack.webUrl!, r, await consentPhraseFor(stack, r.identity));
  return { id: r.identity, pass };
}
