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
 * the region `Signature`; errors in the `role="alert"` element. Issue 6 adds, after
 * sign-in: `Re-register` (inputs `Current pass phrase`, `New pass phrase`, `Confirm new
 * pass phrase`, `Key size`), `Revoke key` with its confirmation (input `Current pass
 * phrase`, buttons `Yes, revoke my key`, `Cancel`); both re-authenticate with the
 * current pass phrase first (docs/lifecycle.md, "Re-authentication"),
 * and `Send to bank` (inputs `Payee account`, `Amount`, `Currency`, `Reference`)
 * with the region `Receipt`.
 *
 * @module
 */
import { parseConsentPhrase } from "../protocol/mod.ts";
import { fromUtf8, utf8, wipe } from "../protocol/mod.ts";
import { base64 } from "../protocol/mod.ts";
import { normalizeRegistration, type Registration } from "../protocol/mod.ts";
import type { Command, Reply, Results } from "./worker_api.ts";
import { newPassphraseHelp, takeNewPassphrase, takePassphrase } from "./passphrase/mod.ts";

/** Idle time after which a signed-in applet wipes itself (DESIGN.md §2.11). */
export const IDLE_MS = 10 * 60_000;
const _WORKER_PATH = /^\/applet\/[0-9a-f]{64}\.js$/;
const _SRI_SHA384 = /^sha384-[A-Za-z0-9+/]{64}$/;
const _TAMPERED = "The applet's files do not match its build; it will not start.";
const _UNAVAILABLE = "The applet could not be loaded: check the connection and reload the page.";

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
  readonly retryable: boolean;
  constructor(code: string, message: string, retryAfterMs?: number, retryable = false) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
    this.retryable = retryable;
  }
}

// ---- the worker -------------------------------------------------------------------------

/**
 * The worker's script URL while the page starts it: a `blob:` URL of bytes the page
 * fetched with Subresource Integrity ({@link _verifiedWorkerUrl}). The Trusted Types
 * policy accepts this one URL and nothing else, so no other code on the page can start
 * a worker from its own bytes.
 */
let _verifiedUrl: string | null = null;

const _policy = (globalThis as { trustedTypes?: _TrustedTypes }).trustedTypes?.createPolicy(
  "roamsign",
  {
    createScriptURL(url: string) {
      if (url !== _verifiedUrl) throw new TypeError("roamsign: not the verified applet worker");
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
    else {
      p.reject(
        new UiError(r.error.code, r.error.message, r.error.retryAfterMs, r.error.retryable),
      );
    }
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}

let _worker: AppletWorker | null = null;
let _starting: Promise<AppletWorker> | null = null;

/** The worker's URL path and SRI hash, from the page's `<meta name="roamsign-worker">`. */
function _workerSource(): { path: string; integrity: string } {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="roamsign-worker"]');
  const path = meta?.content ?? "";
  const integrity = meta?.dataset.integrity ?? "";
  if (!_WORKER_PATH.test(path) || !_SRI_SHA384.test(integrity)) {
    throw new UiError("applet_tampered", "The page does not name a valid applet worker.");
  }
  return { path, integrity };
}

/**
 * Fetches the worker with Subresource Integrity (`new Worker(url)` has none) and returns
 * a `blob:` URL of the verified bytes; the caller starts the worker from it and revokes
 * it. The browser rejects a body whose SHA-384 is not the page's; a second request
 * without integrity then tells a changed file (`applet_tampered`) from an unreachable
 * one (`applet_unavailable`).
 */
async function _verifiedWorkerUrl(): Promise<string> {
  const { path, integrity } = _workerSource();
  let res: Response;
  try {
    res = await fetch(path, { integrity, redirect: "error" });
  } catch {
    const reachable = await fetch(path, { method: "HEAD", redirect: "error" })
      .then((r) => r.ok, () => false);
    throw reachable
      ? new UiError("applet_tampered", _TAMPERED)
      : new UiError("applet_unavailable", _UNAVAILABLE);
  }
  if (!res.ok) throw new UiError("applet_unavailable", _UNAVAILABLE);
  const blob = new Blob([await res.arrayBuffer()], { type: "text/javascript" });
  return URL.createObjectURL(blob);
}

/** The running worker, starting (and verifying) one if there is none. */
function worker(): Promise<AppletWorker> {
  if (_worker) return Promise.resolve(_worker);
  if (_starting) return _starting;
  _starting = (async () => {
    const url = await _verifiedWorkerUrl();
    _verifiedUrl = url;
    let w: AppletWorker;
    try {
      w = new AppletWorker(url);
    } catch (err) {
      URL.revokeObjectURL(url);
      throw err;
    } finally {
      _verifiedUrl = null;
    }
    try {
      // The worker has no base URL of its own (blob:), so it is told the page's origin.
      await w.call({ type: "init", origin: location.origin });
    } catch (err) {
      await w.end(false);
      throw err;
    } finally {
      URL.revokeObjectURL(url); // started (or failed): the bytes are not needed again
    }
    _worker = w;
    return w;
  })();
  _starting.catch(() => undefined).finally(() => (_starting = null));
  return _starting;
}

/** Wipes and terminates the worker; the page returns to signed-out. */
async function terminate(
  reason: "sign-out" | "idle" | "pagehide" | "revoked" | "ended",
  detail = "",
): Promise<void> {
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
      : reason === "ended"
      ? "Your session ended: sign in again. The applet's memory was wiped."
      : reason === "revoked"
      ? `Your key was revoked${detail}: it can no longer sign, and the server has erased it. ` +
        "Signed out; the applet's memory was wiped."
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

/** What a user-facing error carries (UiError, or a worker's reply). */
interface _ShownError {
  code?: string;
  message?: string;
  group?: number;
  retryAfterMs?: number;
  retryable?: boolean;
}

/**
 * Code → the plain-language text the alert shows instead of the message that came with
 * the error. The applet's own words for what it refused: a server's message never
 * stands in for them.
 */
const _MESSAGES: Record<string, (e: _ShownError) => string> = {
  applet_tampered: () => _TAMPERED,
  untrusted_server: () => "This server's identity could not be verified; nothing was sent.",
  phrase_typo: (e) =>
    `The consent phrase has a typo in group ${e.group ?? "?"}; check it against your letter.`,
  bad_phrase_format: () =>
    "The consent phrase is four groups of five letters and digits, as in your letter.",
  // Signed in, the only pass phrase asked for is the current one (re-authentication).
  wrong_passphrase: () =>
    state.user
      ? "Wrong current pass phrase: nothing was changed, and you are still signed in."
      : "Wrong identity or pass phrase.",
  reauth_required: () => "Enter your current pass phrase again: nothing was changed.",
  account_revoked: () =>
    "This identity's key was revoked: it cannot sign in or sign any more. " +
    "Apply to register under a new identity.",
  key_superseded: () =>
    "Your key was replaced by a re-registration (perhaps in another window). " +
    "Sign out and sign in again.",
  duplicate_message: () => "The bank has executed this message before and refused it again.",
  insufficient_funds: () => "The bank refused: your balance does not cover this amount.",
  host_unavailable: () => "The bank is not reachable right now; try again.",
  host_timeout: () => "The bank is not reachable right now; try again.",
  session_ended: () =>
    "Your session ended (the server restarted, or it was idle too long): sign in again.",
};

function showError(err: unknown): void {
  const e = err as _ShownError;
  if (e?.code === "session_ended" && state.user) {
    // The worker already wiped the key: back to signed-out, then say why.
    void terminate("ended").then(() => showError(err));
    return;
  }
  let text = e?.message ?? "Something went wrong.";
  delete $("error").dataset.retryAfterMs;
  delete $("error").dataset.retryable;
  if (e?.retryable) {
    text = "The service is briefly unavailable; nothing was lost. Try again in a moment.";
    $("error").dataset.retryable = "true";
  }
  if (e?.retryAfterMs) {
    text = `Too many attempts: wait ${Math.ceil(e.retryAfterMs / 1000)} s before trying again.`;
    $("error").dataset.retryAfterMs = String(e.retryAfterMs);
  }
  const mapped = e?.code !== undefined && Object.hasOwn(_MESSAGES, e.code)
    ? _MESSAGES[e.code]
    : undefined;
  if (mapped) text = mapped(e);
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
    run().catch((err) => {
      status(""); // an action in progress ("Signing in…") has ended: the alert says how
      showError(err);
    }).finally(() => {
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
  const keySize = keySizeField();
  return form(
    "Apply to register",
    [
      ...registrationFields(),
      newPassphraseHelp(
        field("Pass phrase", "passphrase", {
          type: "password",
          autocomplete: "new-password",
          required: true,
        }),
        {
          confirmId: "passphrase-confirm",
          userInputs: () => [value("identity"), value("full-name")],
        },
      ),
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
      const pass = await takeNewPassphrase("passphrase", "passphrase-confirm", [
        registration.identity,
        registration.fullName,
      ]);
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

function keySizeField(): HTMLElement {
  return el(
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
}

function receiptRegion(r: Results["sendToHost"]): HTMLElement {
  const rc = r.receipt;
  const rows: [string, string][] = [
    ["Paid to", rc.debit.to],
    ["Amount", `${rc.debit.amount} ${rc.debit.currency}`],
    ["Reference", rc.debit.reference || "—"],
    ["Balance after", `${rc.balance} ${rc.debit.currency}`],
    ["Message id", rc.messageId],
    ["Signed with certificate", rc.serial],
    ["Processed", rc.processedAt],
  ];
  const file = (bytes: Uint8Array, name: string, label: string) =>
    el("a", {
      href: URL.createObjectURL(
        new Blob([bytes as BlobPart], { type: "application/octet-stream" }),
      ),
      download: name,
    }, label);
  const fingerprint = r.hostFingerprint.slice(0, 32).replace(/(.{4})(?!$)/g, "$1 ");
  return el(
    "section",
    { role: "region", "aria-label": "Receipt", class: "receipt", id: "receipt" },
    el("h3", {}, "Receipt"),
    el("p", {}, `Executed by the ${rc.host}: receipt ${rc.receiptId}.`),
    el("dl", {}, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    el(
      "p",
      { class: "verified", id: "receipt-verified" },
      `Receipt signature verified with the ${rc.host}'s integrity key (SHA-256 ${fingerprint} …).`,
    ),
    el(
      "details",
      {},
      el("summary", {}, "What you signed"),
      el("pre", { id: "instruction-text" }, fromUtf8(r.message)),
    ),
    el(
      "p",
      {},
      file(r.message, `${rc.messageId}.txt`, "Download signed instruction"),
      " · ",
      file(r.signature, `${rc.messageId}.sig`, "Download instruction signature"),
      " · ",
      file(utf8(r.receiptText), `${rc.receiptId}-receipt.json`, "Download receipt"),
    ),
  );
}

/** `125` → `125.00`, `125.5` → `125.50`; throws a UiError for anything else. */
function normalizeAmount(text: string): string {
  const t = text.trim();
  const m = /^(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,2}))?$/.exec(t);
  if (!m || Number(t) <= 0) {
    throw new UiError("bad_amount", "Type the amount as a number like 125.00.");
  }
  return `${m[1]}.${(m[2] ?? "").padEnd(2, "0")}`;
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
    [
      ...registrationFields(user.registration, true),
      field("Current pass phrase", "update-current-passphrase", {
        type: "password",
        autocomplete: "current-password",
        required: true,
      }),
    ],
    "Update registration",
    async () => {
      const registration = readRegistration();
      const current = takePassphrase("update-current-passphrase");
      status("Checking your current pass phrase…");
      const w = await worker();
      const r = await w.call(
        { type: "update", registration, currentPassphrase: current },
        [current.buffer],
      );
      user.registration = r.registration;
      status("Registration updated.");
    },
  );
  const receiptSlot = el("div", { id: "receipt-slot" });
  const payForm = form(
    "Pay with the bank",
    [
      field("Payee account", "payee", { required: true, maxlength: "64", autocomplete: "off" }),
      field("Amount", "amount", { required: true, inputmode: "decimal", placeholder: "125.00" }),
      field("Currency", "currency", {
        required: true,
        value: "GBP",
        maxlength: "3",
        autocapitalize: "characters",
      }),
      field("Reference", "reference", { maxlength: "140", autocomplete: "off" }),
      el(
        "p",
        { class: "hint" },
        "The instruction is signed with your key and sent end to end to the bank: " +
          "this server only routes it encrypted.",
      ),
    ],
    "Send to bank",
    async () => {
      const debit = {
        to: value("payee").trim(),
        amount: normalizeAmount(value("amount")),
        currency: value("currency").trim().toUpperCase(),
        reference: value("reference").trim(),
      };
      if (!debit.to) throw new UiError("bad_payee", "Type the payee's account.");
      status("Signing and sending to the bank…");
      const w = await worker();
      const r = await w.call({ type: "sendToHost", debit });
      receiptSlot.replaceChildren(receiptRegion(r));
      status("Executed by the bank; its signed receipt was verified.");
    },
  );

  const progress = el("progress", {
    id: "rereg-progress",
    max: "1",
    value: "0",
    "aria-label": "Key generation",
    hidden: true,
  });
  const reregForm = form(
    "Re-register",
    [
      el(
        "p",
        { class: "hint" },
        "Re-registration makes a new key pair in this browser and replaces your key and " +
          "its certificate; the old certificate stays in the directory as superseded. " +
          "Choose a new pass phrase, or type your current one again.",
      ),
      field("Current pass phrase", "rereg-current-passphrase", {
        type: "password",
        autocomplete: "current-password",
        required: true,
      }),
      newPassphraseHelp(
        field("New pass phrase", "new-passphrase", {
          type: "password",
          autocomplete: "new-password",
          required: true,
        }),
        {
          confirmId: "new-passphrase-confirm",
          userInputs: () => [user.identity, user.registration.fullName],
        },
      ),
      field("Confirm new pass phrase", "new-passphrase-confirm", {
        type: "password",
        autocomplete: "new-password",
        required: true,
      }),
      keySizeField(),
      progress,
    ],
    "Re-register",
    async () => {
      const current = takePassphrase("rereg-current-passphrase");
      let pass: Uint8Array;
      try {
        pass = await takeNewPassphrase("new-passphrase", "new-passphrase-confirm", [
          user.identity,
          user.registration.fullName,
        ]);
      } catch (err) {
        wipe(current);
        throw err;
      }
      const bits = Number(value("key-size"));
      progress.hidden = false;
      status("Checking your current pass phrase, then generating your new key pair…");
      const w = await worker();
      const r = await w.call(
        { type: "reregister", passphrase: pass, currentPassphrase: current, bits },
        [pass.buffer, current.buffer],
        (p) => {
          progress.value = p;
          if (p >= 1) status("Re-registering…");
        },
      ).finally(() => {
        progress.hidden = true; // also when refused (e.g. a wrong current pass phrase)
      });
      user.certificate = r.certificate;
      out.replaceChildren();
      status(
        `Re-registered: a new key pair and certificate ${r.serial}; ` +
          `certificate ${r.superseded} is superseded.`,
      );
    },
  );

  const revokeSlot = el("div", { id: "revoke-slot" });
  const revokeButton = el("button", { type: "button", class: "danger" }, "Revoke key");
  revokeButton.addEventListener("click", () => {
    if (state.busy) return;
    clearError();
    const cancel = el("button", { type: "button", class: "secondary" }, "Cancel");
    cancel.addEventListener("click", () => {
      revokeSlot.replaceChildren();
      revokeButton.focus();
    });
    const confirm = form(
      "Confirm revocation",
      [
        field("Current pass phrase", "revoke-current-passphrase", {
          type: "password",
          autocomplete: "current-password",
          required: true,
        }),
      ],
      "Yes, revoke my key",
      async () => {
        const current = takePassphrase("revoke-current-passphrase");
        const w = await worker();
        const r = await w.call({ type: "revoke", currentPassphrase: current }, [current.buffer]);
        await terminate("revoked", r.serial ? ` (certificate ${r.serial})` : "");
      },
    );
    confirm.append(cancel);
    revokeSlot.replaceChildren(
      el(
        "div",
        {
          role: "alertdialog",
          "aria-labelledby": "revoke-title",
          "aria-describedby": "revoke-text",
          class: "confirm",
        },
        el("h3", { id: "revoke-title" }, "Revoke your key?"),
        el(
          "p",
          { id: "revoke-text" },
          "The server erases your key record and pass phrase record, and the certificate " +
            `of ${user.identity} is revoked and listed on the CRL. Signatures you made stay ` +
            "checkable, but nobody can sign or sign in as this identity again.",
        ),
        confirm,
      ),
    );
    cancel.focus();
  });

  const signOut = el("button", { type: "button", class: "secondary", id: "sign-out" }, "Sign out");
  signOut.addEventListener("click", () => void terminate("sign-out"));
  return el(
    "div",
    {},
    el("p", {}, "Signed in as ", el("strong", { id: "signed-in-as" }, user.identity), "."),
    el("section", {}, el("h2", {}, "Sign a message"), signForm, out),
    el("section", {}, el("h2", {}, "Pay with the bank"), payForm, receiptSlot),
    el("section", {}, el("h2", {}, "Registration data"), updateForm),
    el("section", {}, el("h2", {}, "Re-register"), reregForm),
    el("section", {}, el("h2", {}, "Revoke key"), revokeButton, revokeSlot),
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
