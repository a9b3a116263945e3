/// <reference lib="dom" />
/**
 * Signed in, "Sign a message": the message, a counter of the room left, and the
 * signature region ("Signature") with "Copy signature", downloads, the certificate as
 * a link and a verification recipe that checks the chain and the CRL.
 *
 * @module
 */
import { base64, MESSAGE_TOO_LONG_TEXT, messageRoom, utf8 } from "../../protocol/mod.ts";
import { download, el, field, groupDigits, section, value } from "../ui/dom.ts";
import { status } from "../ui/feedback.ts";
import { actionForm } from "../ui/form.ts";
import { state } from "../ui/state.ts";
import { UiError, worker } from "../ui/worker_client.ts";

function _copyButton(text: string): HTMLButtonElement {
  const b = el("button", { type: "button", class: "secondary" }, "Copy signature");
  b.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      status("Signature copied to the clipboard.");
    } catch {
      const pre = document.getElementById("signature-base64");
      if (pre) getSelection()?.selectAllChildren(pre);
      status("Copying was not allowed here: the signature is selected; press Ctrl+C to copy it.");
    }
  });
  return b;
}

function _recipe(identity: string): HTMLElement {
  const origin = location.origin;
  const lines = [
    `curl -so cert.pem '${origin}/directory/${identity}?format=pem'`,
    `curl -so ca.pem ${origin}/ca.pem && curl -so crl.pem ${origin}/crl.pem`,
    "openssl verify -crl_check -CAfile ca.pem -CRLfile crl.pem cert.pem",
    "openssl x509 -pubkey -noout -in cert.pem > pub.pem",
    `openssl dgst -sha256 -verify pub.pem -signature ${identity}.sig ${identity}-message.txt`,
  ];
  return el(
    "details",
    { class: "recipe" },
    el("summary", {}, "Check it anywhere"),
    el(
      "p",
      { class: "hint" },
      "With openssl: the certificate must chain to the CA and not be on the CRL, then the " +
        "signature must verify.",
    ),
    el("code", { id: "verify-openssl", class: "block" }, lines.join("\n")),
    el(
      "p",
      { class: "hint" },
      "Or with roamsign's checker, which also says revoked or superseded:",
    ),
    el(
      "code",
      { id: "verify-deno", class: "block" },
      `deno task verify -- --server ${origin} --identity ${identity} ` +
        `--message ${identity}-message.txt --signature ${identity}.sig`,
    ),
  );
}

/** The "Signature" region for a signature just made. */
export function signatureRegion(
  identity: string,
  message: Uint8Array,
  sig: Uint8Array,
  serial?: string,
): HTMLElement {
  const b64 = base64(sig);
  const certUrl = `/directory/${encodeURIComponent(identity)}?format=pem`;
  return el(
    "section",
    { role: "region", "aria-label": "Signature", class: "result", id: "signature" },
    el("h3", { tabindex: "-1" }, "Signature"),
    el("pre", { id: "signature-base64" }, b64),
    el("div", { class: "actions" }, _copyButton(b64)),
    el(
      "p",
      {},
      serial ? `Verified by the server against certificate ${serial} (` : "Submitted (",
      el("a", { href: certUrl, id: "certificate-link" }, "your certificate"),
      ").",
    ),
    el(
      "p",
      { class: "downloads" },
      Object.assign(download(sig, `${identity}.sig`, "Download signature file"), {
        id: "signature-file",
      }),
      " · ",
      Object.assign(download(message, `${identity}-message.txt`, "Download message file"), {
        id: "message-file",
      }),
    ),
    _recipe(identity),
  );
}

/**
 * The `Message` field with the room left under it (protocol/limits.ts `messageRoom`: the
 * limit is in UTF-8 bytes, so an accented letter counts 2); over the limit the field is
 * marked invalid and the form refuses before anything is sent.
 */
function _messageField(): HTMLElement {
  const wrap = field("Message", "message", {
    tag: "textarea",
    hint: "Exactly these bytes (UTF-8) are signed. Up to 64 KiB: a plain letter counts 1, " +
      "an accented letter 2, most other scripts 3, an emoji 4.",
    attrs: { required: true, rows: "5" },
  });
  const input = wrap.querySelector("textarea")!;
  const room = el("p", { id: "message-room", class: "hint counter" });
  input.setAttribute("aria-describedby", `message-hint message-room message-error`);
  const update = () => {
    const n = messageRoom(input.value);
    room.textContent = n >= 0
      ? `${groupDigits(n)} characters left`
      : `${groupDigits(-n)} characters too many`;
    room.dataset.over = String(n < 0);
    if (n < 0) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  input.addEventListener("input", update);
  update();
  input.after(room);
  return wrap;
}

/** The "Sign a message" section. */
export function signSection(): HTMLElement {
  const user = state.user!;
  const out = el("div", { id: "signature-slot" });
  const form = actionForm({
    name: "Sign a message",
    submit: "Sign message",
    fields: { message: "message" },
    children: [_messageField()],
    run: async () => {
      const text = value("message");
      if (text.length === 0) throw new UiError("empty_message", "Type a message to sign.");
      if (messageRoom(text) < 0) {
        throw new UiError("message_too_long", `${MESSAGE_TOO_LONG_TEXT} Nothing was sent.`, {
          field: "message",
        });
      }
      const message = utf8(text);
      status("Signing…");
      out.replaceChildren();
      const w = await worker();
      const r = await w.call({ type: "sign", message: message.slice() });
      out.replaceChildren(signatureRegion(user.identity, message, r.signature, r.serial));
      status("Message signed and verified by the server.");
      out.querySelector("h3")?.focus(); // the result, read out and in view
    },
  });
  return section("sign", "Sign a message", form, out);
}
