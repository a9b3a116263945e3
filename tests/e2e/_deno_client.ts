/**
 * The applet's protocol code run from Deno (same modules as the worker):
 * set-up steps that would be slow or beside the point in a browser, and the
 * oracle that fetches a user's private key for the heap-snapshot check.
 *
 * @module
 */
import { initWasmCrypto } from "../../wasm-crypto/mod.ts";
import * as opaque from "@serenity-kit/opaque";
import {
  applyToRegister,
  forget,
  giveConsent,
  signIn,
  wasmSessionCrypto,
} from "../../applet/protocol/flows.ts";
import { Session } from "../../applet/protocol/session.ts";
import { utf8 } from "../../applet/protocol/bytes.ts";
import type { Registration } from "../../applet/protocol/registration.ts";

let _ready: Promise<void> | null = null;

/** Initialises wasm-crypto and OPAQUE once per process. */
export function ready(): Promise<void> {
  _ready ??= (async () => {
    await initWasmCrypto();
    await opaque.ready;
  })();
  return _ready;
}

/** Opens a channel to a web server. */
export async function session(webUrl: string): Promise<Session> {
  await ready();
  return await Session.open({ baseUrl: webUrl, crypto: wasmSessionCrypto });
}

/** Applies to register from Deno. */
export async function applyFromDeno(webUrl: string, r: Registration, passphrase: string) {
  const s = await session(webUrl);
  try {
    return await applyToRegister(s, { registration: r, passphrase: utf8(passphrase), bits: 2048 });
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
