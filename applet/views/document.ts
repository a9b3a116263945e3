/// <reference lib="dom" />
/**
 * Signed in, "Sign a document" (docs/documents.md): a collapsed section whose opening
 * starts the document worker (its bundle is fetched then, never on the first load:
 * applet/documents/client.ts). The file input "Document" takes any file up to 25 MiB;
 * the worker hashes it (progress bar) and the page shows its name, size, SHA-256 and, for
 * a PDF, the page count. "Sign document" has the document worker build the CMS signed
 * attributes (and, for a PDF, the PAdES update), the signing worker sign them and fetch
 * the time-stamp token, and the document worker wrap the result: "Download signature
 * (.p7s)" for every file, "Download signed PDF" for a PDF. The file never leaves the
 * browser; only hashes and signatures travel.
 *
 * @module
 */
import { DOCUMENT_MAX_BYTES, pemDecode } from "../../protocol/mod.ts";
import { documentWorker, DocumentWorkerError } from "../documents/client.ts";
import type { Inspection } from "../documents/api.ts";
import { download, el, field, groupDigits } from "../ui/dom.ts";
import { status } from "../ui/feedback.ts";
import { actionForm, runAction } from "../ui/form.ts";
import { state } from "../ui/state.ts";
import { UiError, worker } from "../ui/worker_client.ts";

const _MIB = 1024 * 1024;

function _size(n: number): string {
  return n >= _MIB ? `${(n / _MIB).toFixed(1)} MiB` : `${groupDigits(n)} bytes`;
}

/** The page's own refusals, before any work and before anything is sent. */
function _checkFile(file: File | undefined): File {
  if (!file) throw new UiError("no_document", "Choose a file to sign.", { field: "document" });
  if (file.size === 0) {
    throw new UiError("empty_document", "The file is empty: nothing to sign.", {
      field: "document",
    });
  }
  if (file.size > DOCUMENT_MAX_BYTES) {
    throw new UiError(
      "document_too_large",
      `The file is ${_size(file.size)}; documents up to 25 MiB can be signed. Nothing was sent.`,
      { field: "document" },
    );
  }
  return file;
}

/** A document worker refusal as the page's own error, about the Document field. */
function _own(err: unknown): unknown {
  return err instanceof DocumentWorkerError
    ? new UiError(err.code, err.message, { field: "document" })
    : err;
}

function _info(i: Inspection): HTMLElement {
  const rows: [string, string][] = [
    ["Name", i.name],
    ["Size", _size(i.size)],
    ["SHA-256", i.sha256],
  ];
  if (i.pdf) rows.push(["Pages", String(i.pages)]);
  return el(
    "dl",
    { id: "document-info", class: "facts" },
    ...rows.flatMap((
      [k, v],
    ) => [el("dt", {}, k), el("dd", { id: `document-${k.toLowerCase().replace("-", "")}` }, v)]),
  );
}

function _recipe(base: string, pdf: boolean): HTMLElement {
  const origin = location.origin;
  const lines = [
    `curl -so ca.pem ${origin}/ca.pem`,
    `openssl cms -verify -binary -inform DER -in '${base}.p7s' -content '${base}' -CAfile ca.pem -out /dev/null`,
    `deno task verify -- --server ${origin} --document '${base}' --signature '${base}.p7s'`,
  ];
  if (pdf) {
    lines.push(`pdfsig '${base.replace(/\.pdf$/i, "")}-signed.pdf'`);
    lines.push(
      `deno task verify -- --server ${origin} --document '${
        base.replace(/\.pdf$/i, "")
      }-signed.pdf'`,
    );
  }
  return el(
    "details",
    { class: "recipe" },
    el("summary", {}, "Check it anywhere"),
    el("code", { id: "document-verify", class: "block" }, lines.join("\n")),
  );
}

interface _Signed {
  p7s: Uint8Array;
  pdf?: Uint8Array;
  genTime?: string;
}

function _result(file: File, pdf: boolean, r: _Signed): HTMLElement {
  const base = file.name || "document";
  const links: (Node | string)[] = [];
  if (r.pdf) {
    const a = download(r.pdf, `${base.replace(/\.pdf$/i, "")}-signed.pdf`, "Download signed PDF");
    a.id = "signed-pdf";
    links.push(a, " · ");
  }
  const p7s = download(r.p7s, `${base}.p7s`, "Download signature (.p7s)");
  p7s.id = "signature-p7s";
  links.push(p7s);
  return el(
    "section",
    {
      role: "region",
      "aria-label": "Document signature",
      class: "result",
      id: "document-signature",
    },
    el("h3", {}, "Document signed"),
    el(
      "p",
      { id: "document-timestamp" },
      r.genTime
        ? `Time-stamped by the roamsign time-stamping authority at ${r.genTime}.`
        : "Not time-stamped.",
    ),
    el("p", { class: "downloads" }, ...links),
    _recipe(base, pdf),
  );
}

/** The two signatures, made by the signing worker over what the document worker built. */
async function _sign(
  inspection: Inspection,
  pss: boolean,
  timestamp: boolean,
): Promise<_Signed> {
  const dw = await documentWorker();
  const certificate = pemDecode(state.user!.certificate);
  status("Preparing the signature…");
  const prepared = await dw.call<
    { id: number; ok: true; cadesAttributes: Uint8Array; padesAttributes?: Uint8Array }
  >({ type: "prepare", certificate, pdf: inspection.pdf });
  const w = await worker();
  const alg = pss ? "pss" as const : "pkcs1" as const;
  status(timestamp ? "Signing and time-stamping…" : "Signing…");
  const cades = await w.call({
    type: "signDocument",
    signedAttributes: prepared.cadesAttributes,
    alg,
    timestamp,
  });
  const pades = prepared.padesAttributes
    ? await w.call({
      type: "signDocument",
      signedAttributes: prepared.padesAttributes,
      alg,
      timestamp,
    })
    : undefined;
  return await dw.call<{ id: number; ok: true } & _Signed>({
    type: "finish",
    alg,
    certificate: cades.certificate,
    caCertificate: cades.caCertificate,
    cades,
    pades,
  });
}

/** The scheme and time-stamp choices. */
function _options(): HTMLElement[] {
  const scheme = el(
    "div",
    { class: "field" },
    el("label", { for: "document-scheme" }, "Signature scheme"),
    el(
      "select",
      { id: "document-scheme" },
      el("option", { value: "pkcs1" }, "RSASSA-PKCS1-v1_5 (most compatible)"),
      el("option", { value: "pss" }, "RSA-PSS"),
    ),
  );
  const stamp = el(
    "div",
    { class: "field checkbox" },
    el("input", { type: "checkbox", id: "document-timestamp-wanted", checked: true }),
    el("label", { for: "document-timestamp-wanted" }, "Add a trusted timestamp"),
  );
  return [scheme, stamp];
}

type _Inspected = { file: File; inspection: Inspection };

/**
 * The chosen file's inspection by the document worker (hash with progress, page count),
 * done once per file: on choosing it, or on "Sign document" if that came first.
 */
function _inspector(
  fileInput: HTMLInputElement,
  show: { info: HTMLElement; out: HTMLElement; progress: HTMLProgressElement },
): () => Promise<_Inspected> {
  let inspected: _Inspected | null = null;
  return async () => {
    const file = _checkFile(fileInput.files?.[0]);
    if (inspected?.file === file) return inspected;
    inspected = null;
    show.info.replaceChildren();
    show.out.replaceChildren();
    status("Hashing the document in this browser…");
    show.progress.hidden = false;
    show.progress.value = 0;
    try {
      const dw = await documentWorker();
      const r = await dw.call<{ id: number; ok: true; inspection: Inspection }>(
        { type: "inspect", file },
        (p) => (show.progress.value = p),
      );
      inspected = { file, inspection: r.inspection };
      show.info.replaceChildren(_info(r.inspection));
      status("Document ready to sign.");
      return inspected;
    } catch (err) {
      throw _own(err);
    } finally {
      show.progress.hidden = true;
    }
  };
}

/** The "Sign a document" section. */
export function documentSection(): HTMLElement {
  const out = el("div", { id: "document-slot" });
  const info = el("div", { id: "document-info-slot", "aria-live": "polite" });
  const progress = el("progress", {
    id: "document-progress",
    max: "1",
    value: "0",
    "aria-label": "Hashing the document",
    hidden: true,
  });
  const input = field("Document", "document", {
    hint: "Any file up to 25 MiB. It stays in this browser: only its hash is signed.",
    attrs: { type: "file" },
  });
  const fileInput = input.querySelector("input")!;
  const inspect = _inspector(fileInput, { info, out, progress });
  const form = actionForm({
    name: "Sign a document",
    submit: "Sign document",
    fields: { document: "document" },
    children: [input, progress, info, ..._options()],
    run: async () => {
      const { file, inspection } = await inspect();
      out.replaceChildren();
      const pss = (document.getElementById("document-scheme") as HTMLSelectElement).value === "pss";
      const timestamp =
        (document.getElementById("document-timestamp-wanted") as HTMLInputElement).checked;
      const r = await _sign(inspection, pss, timestamp).catch((err) => {
        throw _own(err);
      });
      out.replaceChildren(_result(file, inspection.pdf, r));
      status(
        inspection.pdf
          ? "Document signed: the signed PDF and the signature are ready."
          : "Document signed: the signature is ready.",
      );
    },
  });
  fileInput.addEventListener(
    "change",
    () => void runAction(form, () => inspect().then(() => undefined), { document: "document" }),
  );
  const details = el(
    "details",
    { id: "document-details" },
    el("summary", {}, el("h2", { id: "document-title" }, "Sign a document")),
    form,
    out,
  );
  details.addEventListener("toggle", () => {
    if ((details as HTMLDetailsElement).open) documentWorker().catch(() => undefined); // errors show on use
  });
  return el(
    "section",
    { id: "document-section", "aria-labelledby": "document-title", class: "card" },
    details,
  );
}
