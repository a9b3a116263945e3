/// <reference lib="dom" />
/**
 * The applet page: plain DOM, no framework. It owns no secret: the pass phrase
 * is read from its field, encoded to bytes, the field cleared, and the bytes
 * transferred to the worker, which does everything else (DESIGN.md §1). On
 * sign-out, `pagehide` or 10 idle minutes the worker wipes itself and is
 * terminated, and the page returns to signed-out. Nothing is stored anywhere.
 *
 * Accessible names are part of the interface (issue 5): inputs `Identity`,
 * `Full name`, `Account number`, `Address`, `Pass phrase`, `Confirm pass phrase`,
 * `Consent phrase`, `Message`, `Key size`; buttons `Apply to register`,
 * `Give consent`, `Sign in`, `Sign message`, `Update registration`, `Sign out`;
 * the region `Signature`; errors in the `role="alert"` element.
 *
 * @module
 */
import { parseConsentPhrase } from "../proxy/consent_phrase.ts";
import { ctEqual, utf8, wipe } from "./protocol/bytes.ts";
import { base64 } from "./protocol/der.ts";
import { normalizeRegistration, type Registration } from "./protocol/registration.ts";
import type { Command, Reply, Results } from "./worker_api.ts";

/** Idle time after which a signed-in applet wipes itself (DESIGN.md §2.11). */
export const IDLE_MS = 10 * 60_000;
const _MANIFEST = "/.well-known/roamsign/manifest.json";
const _WORKER_PATH = /^\/applet\/[0-9a-f]{64}\.js$/;

interface _TrustedTypes {
  createPolicy(
    name: string,
    rules: { createScriptURL(url: string): string },
  ): { createScriptURL(url: string): unknown };
}

/** A user-facing error. */
class UiError extends Error {
  readonly code: string;
  readonly retryAfterMs?: number;
  constructor(code: string, message: string, retryAfterMs?: number) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

// ---- the worker -------------------------------------------------------------------------

const _policy = (globalThis as { trustedTypes?: _TrustedTypes }).trustedTypes?.createPolicy(
  "roamsign",
  {
    createScriptURL(url: string) {
      if (!_WORKER_PATH.test(url)) throw new TypeError("roamsign: not an applet worker URL");
      return url;
    },
  },
);

/** The worker and its pending calls. */
class AppletWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; progress?: (p: number) => void }
  >();
  #next = 1;

  constructor(url: string) {
    const scriptUrl = _policy ? _policy.createScriptURL(url) : url;
    this.#worker = new Worker(scriptUrl as string, { type: "module", name: "roamsign-applet" });
    this.#worker.onmessage = (e: MessageEvent<Reply>) => this.#reply(e.data);
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#failAll(
        new UiError("applet_error", "The applet could not be loaded or stopped unexpectedly."),
      );
    };
  }

  call<K extends Command["type"]>(
    command: Extract<Command, { type: K }>,
    transfer: Transferable[] = [],
    progress?: (p: number) => void,
  ): Promise<Results[K]> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      this.#worker.postMessage({ ...command, id }, transfer);
    });
  }

  /** Asks the worker to wipe itself, then terminates it (at once if `wait` is false). */
  async end(wait: boolean): Promise<void> {
    const wiped = this.call({ type: "wipe" }).catch(() => undefined);
    if (wait) {
      await Promise.race([wiped, new Promise((r) => setTimeout(r, 2000))]);
    }
    this.#worker.terminate();
    this.#failAll(new UiError("applet_ended", "The applet ended."));
  }

  #reply(r: Reply): void {
    const p = this.#pending.get(r.id);
    if (!p) return;
    if ("progress" in r) {
      p.progress?.(r.progress);
      return;
    }
    this.#pending.delete(r.id);
    if (r.ok) p.resolve(r.result);
    else p.reject(new UiError(r.error.code, r.error.message, r.error.retryAfterMs));
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}

let _worker: AppletWorker | null = null;
let _starting: Promise<AppletWorker> | null = null;

function _workerUrl(): string {
  const url = document.querySelector<HTMLMetaElement>('meta[name="roamsign-worker"]')?.content;
  if (!url || !_WORKER_PATH.test(url)) {
    throw new UiError("applet_tampered", "The page does not name a valid applet worker.");
  }
  return url;
}

/** The running worker, starting (and verifying) one if there is none. */
function worker(): Promise<AppletWorker> {
  if (_worker) return Promise.resolve(_worker);
  if (_starting) return _starting;
  _starting = (async () => {
    const w = new AppletWorker(_workerUrl());
    try {
      await w.call({ type: "init", manifestUrl: _MANIFEST });
    } catch (err) {
      await w.end(false);
      throw err;
    }
    _worker = w;
    return w;
  })();
  _starting.catch(() => undefined).finally(() => (_starting = null));
  return _starting;
}

/** Wipes and terminates the worker; the page returns to signed-out. */
async function terminate(reason: "sign-out" | "idle" | "pagehide"): Promise<void> {
  _clearIdle();
  const w = _worker;
  _worker = null;
  state.user = null;
  if (w) await w.end(reason !== "pagehide");
  if (reason === "pagehide") return;
  state.tab = "signin";
  render();
  status(
    reason === "idle"
      ? "Signed out after 10 idle minutes. The applet's memory was wiped."
      : "Signed out. The applet's memory was wiped.",
  );
}

// ---- idle timer -------------------------------------------------------------------------

let _idle: ReturnType<typeof setTimeout> | null = null;

function _clearIdle(): void {
  if (_idle !== null) clearTimeout(_idle);
  _idle = null;
}

function _armIdle(): void {
  _clearIdle();
  if (state.user) _idle = setTimeout(() => void terminate("idle"), IDLE_MS);
}

for (const ev of ["pointerdown", "keydown", "input"]) {
  addEventListener(ev, () => state.user && _armIdle(), { passive: true, capture: true });
}
addEventListener("pagehide", () => void terminate("pagehide"));

// ---- state and rendering ----------------------------------------------------------------

type Tab = "register" | "consent" | "signin";

const state: {
  tab: Tab;
  user: { identity: string; registration: Registration; certificate: string } | null;
  busy: boolean;
} = { tab: "register", user: null, busy: false };

const $ = (id: string) => document.getElementById(id)!;

function status(text: string): void {
  $("status").textContent = text;
}

function showError(err: unknown): void {
  const e = err as { code?: string; message?: string; group?: number; retryAfterMs?: number };
  let text = e?.message ?? "Something went wrong.";
  delete $("error").dataset.retryAfterMs;
  if (e?.retryAfterMs) {
    text = `Too many attempts: wait ${Math.ceil(e.retryAfterMs / 1000)} s before trying again.`;
    $("error").dataset.retryAfterMs = String(e.retryAfterMs);
  }
  if (e?.code === "phrase_typo") {
    text = `The consent phrase has a typo in group ${
      e.group ?? "?"
    }; check it against your letter.`;
  } else if (e?.code === "bad_phrase_format") {
    text = "The consent phrase is four groups of five letters and digits, as in your letter.";
  } else if (e?.code === "wrong_passphrase") {
    text = "Wrong identity or pass phrase.";
  }
  $("error").textContent = text;
  $("error").dataset.code = e?.code ?? "error";
}

function clearError(): void {
  $("error").textContent = "";
  delete $("error").dataset.code;
}

type _Attrs = Record<string, string | boolean>;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: _Attrs = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue;
    node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children);
  return node;
}

function field(
  label: string,
  id: string,
  attrs: _Attrs = {},
  tag: "input" | "textarea" = "input",
): HTMLElement {
  // The label is a sibling, not a wrapper: a wrapping label would add the control's
  // value to its accessible name.
  const input = el(tag, { id, name: id, ...attrs });
  return el("div", { class: "field" }, el("label", { for: id }, label), input);
}

function value(id: string): string {
  return ($(id) as HTMLInputElement).value;
}

function registrationFields(prefill?: Registration, identityReadOnly = false): HTMLElement[] {
  return [
    field("Identity", "identity", {
      autocomplete: "username",
      autocapitalize: "none",
      spellcheck: "false",
      required: true,
      value: prefill?.identity ?? "",
      readonly: identityReadOnly,
    }),
    field("Full name", "full-name", {
      autocomplete: "name",
      required: true,
      value: prefill?.fullName ?? "",
    }),
    field("Account number", "account-number", {
      required: true,
      value: prefill?.accountNumber ?? "",
    }),
    field("Address", "address", { required: true, value: prefill?.address ?? "" }),
  ];
}

function readRegistration(): Registration {
  return normalizeRegistration({
    identity: value("identity").trim().toLowerCase(),
    fullName: value("full-name"),
    accountNumber: value("account-number"),
    address: value("address"),
  });
}

/** Reads a pass phrase field into bytes and clears the field. */
function takePassphrase(id: string): Uint8Array {
  const input = $(id) as HTMLInputElement;
  const bytes = utf8(input.value);
  input.value = "";
  return bytes;
}

function form(
  name: string,
  children: HTMLElement[],
  submit: string,
  run: () => Promise<void>,
): HTMLFormElement {
  const f = el("form", { "aria-label": name, novalidate: true }, ...children);
  const button = el("button", { type: "submit" }, submit);
  f.append(button);
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    if (state.busy) return;
    clearError();
    state.busy = true;
    for (const b of document.querySelectorAll("button")) b.disabled = true;
    run().catch(showError).finally(() => {
      state.busy = false;
      for (const b of document.querySelectorAll("button")) b.disabled = false;
    });
  });
  return f;
}

function tabs(): HTMLElement {
  const list = el("div", { role: "tablist", "aria-label": "What to do" });
  const entries: [Tab, string][] = [
    ["register", "New registration"],
    ["consent", "Consent letter"],
    ["signin", "Existing user"],
  ];
  for (const [tab, label] of entries) {
    const t = el("button", {
      type: "button",
      role: "tab",
      id: `tab-${tab}`,
      "aria-selected": state.tab === tab ? "true" : "false",
      "aria-controls": "panel",
    }, label);
    t.addEventListener("click", () => {
      state.tab = tab;
      clearError();
      render();
    });
    list.append(t);
  }
  return list;
}

function registerView(): HTMLElement {
  const progress = el("progress", {
    id: "keygen-progress",
    max: "1",
    value: "0",
    "aria-label": "Key generation",
    hidden: true,
  });
  const keySize = el(
    "div",
    { class: "field" },
    el("label", { for: "key-size" }, "Key size"),
    el(
      "select",
      { id: "key-size", name: "key-size" },
      el("option", { value: "2048", selected: true }, "2048 bits (default)"),
      el("option", { value: "3072" }, "3072 bits"),
      el("option", { value: "4096" }, "4096 bits"),
    ),
  );
  return form(
    "Apply to register",
    [
      ...registrationFields(),
      field("Pass phrase", "passphrase", {
        type: "password",
        autocomplete: "new-password",
        required: true,
        minlength: "8",
      }),
      field("Confirm pass phrase", "passphrase-confirm", {
        type: "password",
        autocomplete: "new-password",
        required: true,
      }),
      keySize,
      el(
        "p",
        { class: "hint" },
        "Your key pair is generated in this browser. The pass phrase never leaves it.",
      ),
      progress,
    ],
    "Apply to register",
    async () => {
      const registration = readRegistration();
      const pass = takePassphrase("passphrase");
      const confirm = takePassphrase("passphrase-confirm");
      const same = ctEqual(pass, confirm);
      wipe(confirm);
      if (!same) {
        wipe(pass);
        throw new UiError("passphrase_mismatch", "The pass phrases do not match.");
      }
      if (pass.length < 8) {
        wipe(pass);
        throw new UiError("weak_passphrase", "The pass phrase must be at least 8 characters.");
      }
      const bits = Number(value("key-size"));
      progress.hidden = false;
      status("Generating your key pair…");
      const w = await worker();
      const r = await w.call(
        { type: "apply", registration, passphrase: pass, bits },
        [pass.buffer],
        (p) => {
          progress.value = p;
          if (p >= 1) status("Sending your application…");
        },
      );
      progress.hidden = true;
      state.tab = "consent";
      render();
      status(
        `Application received (${r.status}). A consent letter with your consent phrase is on its way` +
          (r.consentExpiresAt
            ? `; it expires ${new Date(r.consentExpiresAt).toLocaleString()}.`
            : "."),
      );
    },
  );
}

function consentView(): HTMLElement {
  return form(
    "Give consent",
    [
      ...registrationFields(),
      field("Consent phrase", "consent-phrase", {
        autocomplete: "off",
        autocapitalize: "characters",
        spellcheck: "false",
        required: true,
        placeholder: "XXXXX-XXXXX-XXXXX-XXXXX",
      }),
      el(
        "p",
        { class: "hint" },
        "Type the registration data exactly as in your application, and the phrase from your consent letter.",
      ),
    ],
    "Give consent",
    async () => {
      const registration = readRegistration();
      const phrase = value("consent-phrase").trim();
      parseConsentPhrase(phrase).fill(0); // typo check before anything is sent
      const w = await worker();
      await w.call({ type: "consent", registration, phrase });
      ($("consent-phrase") as HTMLInputElement).value = "";
      state.tab = "signin";
      render();
      ($("identity") as HTMLInputElement).value = registration.identity;
      status("Consent accepted: your certificate is published. You can sign in now.");
    },
  );
}

function signInView(): HTMLElement {
  return form(
    "Sign in",
    [
      field("Identity", "identity", {
        autocomplete: "username",
        autocapitalize: "none",
        spellcheck: "false",
        required: true,
      }),
      field("Pass phrase", "passphrase", {
        type: "password",
        autocomplete: "current-password",
        required: true,
      }),
    ],
    "Sign in",
    async () => {
      const identity = value("identity").trim().toLowerCase();
      const pass = takePassphrase("passphrase");
      status("Signing in…");
      const w = await worker();
      const r = await w.call({ type: "signIn", identity, passphrase: pass }, [pass.buffer]);
      state.user = r;
      _armIdle();
      render();
      status(`Signed in as ${r.identity}.`);
    },
  );
}

function signatureRegion(
  identity: string,
  message: Uint8Array,
  sig: Uint8Array,
  serial?: string,
): HTMLElement {
  const sigUrl = URL.createObjectURL(
    new Blob([sig as BlobPart], { type: "application/octet-stream" }),
  );
  const msgUrl = URL.createObjectURL(
    new Blob([message as BlobPart], { type: "application/octet-stream" }),
  );
  return el(
    "section",
    { role: "region", "aria-label": "Signature", class: "signature", id: "signature" },
    el("h3", {}, "Signature"),
    el("pre", { id: "signature-base64" }, base64(sig)),
    el("p", {}, serial ? `Verified by the server against certificate ${serial}.` : "Submitted."),
    el(
      "p",
      {},
      el(
        "a",
        { href: sigUrl, download: `${identity}.sig`, id: "signature-file" },
        "Download signature file",
      ),
      " · ",
      el(
        "a",
        { href: msgUrl, download: `${identity}-message.txt`, id: "message-file" },
        "Download message file",
      ),
    ),
    el(
      "p",
      { class: "hint" },
      `Check it anywhere: fetch the certificate from /directory/${identity}?format=pem, then `,
      el(
        "code",
        {},
        `openssl x509 -pubkey -noout -in cert.pem > pub.pem && openssl dgst -sha256 -verify pub.pem -signature ${identity}.sig ${identity}-message.txt`,
      ),
    ),
  );
}

function signedInView(): HTMLElement {
  const user = state.user!;
  const out = el("div", { id: "signature-slot" });
  const signForm = form(
    "Sign a message",
    [field("Message", "message", { required: true, rows: "5" }, "textarea")],
    "Sign message",
    async () => {
      const text = value("message");
      if (text.length === 0) throw new UiError("empty_message", "Type a message to sign.");
      const message = utf8(text);
      const w = await worker();
      const r = await w.call({ type: "sign", message: message.slice() });
      out.replaceChildren(signatureRegion(user.identity, message, r.signature, r.serial));
      status("Message signed and verified by the server.");
    },
  );
  const updateForm = form(
    "Update registration",
    registrationFields(user.registration, true),
    "Update registration",
    async () => {
      const registration = readRegistration();
      const w = await worker();
      const r = await w.call({ type: "update", registration });
      user.registration = r.registration;
      status("Registration updated.");
    },
  );
  const signOut = el("button", { type: "button", class: "secondary", id: "sign-out" }, "Sign out");
  signOut.addEventListener("click", () => void terminate("sign-out"));
  return el(
    "div",
    {},
    el("p", {}, "Signed in as ", el("strong", { id: "signed-in-as" }, user.identity), "."),
    el("section", {}, el("h2", {}, "Sign a message"), signForm, out),
    el("section", {}, el("h2", {}, "Registration data"), updateForm),
    el("section", {}, signOut),
  );
}

function render(): void {
  const view = $("view");
  if (state.user) {
    view.replaceChildren(signedInView());
    return;
  }
  const panel = el("div", { role: "tabpanel", id: "panel", "aria-labelledby": `tab-${state.tab}` });
  panel.append(
    state.tab === "register"
      ? registerView()
      : state.tab === "consent"
      ? consentView()
      : signInView(),
  );
  view.replaceChildren(tabs(), panel);
}

// ---- start ------------------------------------------------------------------------------

render();
worker().then(
  () => {
    document.documentElement.dataset.applet = "ready";
    status("Applet ready.");
  },
  (err) => {
    document.documentElement.dataset.applet = "failed";
    status("The applet did not start.");
    showError(err);
  },
);
