/// <reference lib="dom" />
/**
 * Signed in, "Sign a message": the message, a counter of the room left, and the
 * signature region ("Signature") with "Copy signature", downloads, the certificate as
 * a link and a verification recipe that checks the chain and the CRL.
 *
 * @module
 */
import { base64, utf8 } from "../../protocol/mod.ts";
import { download, el, field, section, value } from "../ui/dom.ts";
import { status } from "../ui/feedback.ts";
import { actionForm } from "../ui/form.ts";
import { state } from "../ui/state.ts";
import { UiError, worker } from "../ui/worker_client.ts";

/** The longest message the page sends (characters; the server's body limit allows it). */
export const MESSAGE_MAX_CHARS = 64_000;

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
    el("h3", {}, "Signature"),
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

/** The "Sign a message" section. */
export function signSection(): HTMLElement {
  const user = state.user!;
  const out = el("div", { id: "signature-slot" });
  const counter = el("p", { class: "hint counter", id: "message-count" });
  const form = actionForm({
    name: "Sign a message",
    submit: "Sign message",
    fields: { message: "message" },
    children: [
      field("Message", "message", {
        tag: "textarea",
        hint: `Up to ${MESSAGE_MAX_CHARS.toLocaleString("en")} characters. Exactly these bytes ` +
          "(UTF-8) are signed.",
        attrs: { required: true, rows: "5", maxlength: String(MESSAGE_MAX_CHARS) },
      }),
      counter,
    ],
    run: async () => {
      const text = value("message");
      if (text.length === 0) throw new UiError("empty_message", "Type a message to sign.");
      if (text.length > MESSAGE_MAX_CHARS) {
        throw new UiError(
          "message_too_long",
          `The message is longer than ${MESSAGE_MAX_CHARS.toLocaleString("en")} characters: ` +
            "shorten it. Nothing was sent.",
          { field: "message" },
        );
      }
      const message = utf8(text);
      status("Signing…");
      out.replaceChildren();
      const w = await worker();
      const r = await w.call({ type: "sign", message: message.slice() });
      out.replaceChildren(signatureRegion(user.identity, message, r.signature, r.serial));
      status("Message signed and verified by the server.");
      out.scrollIntoView?.({ block: "nearest" });
    },
  });
  const input = form.querySelector("textarea")!;
  const count = () => {
    const left = MESSAGE_MAX_CHARS - input.value.length;
    counter.textContent = `${left.toLocaleString("en")} characters left`;
  };
  input.addEventListener("input", count);
  count();
  return section("sign", "Sign a message", form, out);
}
