/// <reference lib="dom" />
/**
 * The page's DOM helpers: build elements, labelled fields with their hints and
 * error slots, and mark fields invalid the accessible way (`aria-invalid`,
 * `aria-describedby`). No framework; every view builds its nodes with {@link el}.
 *
 * A field's label is a sibling of its control, never a wrapper (a wrapping label adds
 * the control's value to its accessible name), and its accessible name is the label
 * text: these names are the applet's interface (README, "Accessible names").
 *
 * @module
 */

/** Attributes for {@link el}: `false` leaves one out, `true` sets it empty. */
export type Attrs = Record<string, string | boolean>;

/** The element with `id` (the views create every id they read). */
export const $ = (id: string): HTMLElement => document.getElementById(id)!;

/** `document.createElement` with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
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

/** What {@link field} takes besides label and id. */
export interface FieldOptions {
  /** Attributes of the control (`type`, `maxlength`, `autocomplete`, …). */
  attrs?: Attrs;
  tag?: "input" | "textarea";
  /** A rule shown under the label before anything is typed (e.g. the identity's). */
  hint?: string;
}

/**
 * A labelled control with an optional hint and an (empty) error slot `<id>-error`;
 * the control's `aria-describedby` names both, so a screen reader reads the rule and,
 * after a refusal, what was wrong.
 */
export function field(label: string, id: string, o: FieldOptions = {}): HTMLElement {
  const described = [`${id}-error`];
  const hint = o.hint ? el("p", { class: "hint", id: `${id}-hint` }, o.hint) : null;
  if (hint) described.unshift(`${id}-hint`);
  const control = el(o.tag ?? "input", {
    id,
    name: id,
    "aria-describedby": described.join(" "),
    ...o.attrs,
  });
  return el(
    "div",
    { class: "field" },
    el("label", { for: id }, label),
    ...(hint ? [hint] : []),
    control,
    el("p", { class: "field-error", id: `${id}-error`, hidden: true }),
  );
}

/**
 * `n` with thousands separators, as `toLocaleString("en")` writes it, without ICU: the first
 * `toLocaleString` call of a page loads its number formatter, 20–25 ms of main thread on this
 * host, in the middle of the signed-in view's first render.
 */
export function groupDigits(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The value of the control with `id`. */
export function value(id: string): string {
  return ($(id) as HTMLInputElement).value;
}

/** Marks the control `id` invalid with `text` in its error slot. */
export function markInvalid(id: string, text: string): HTMLElement | null {
  const control = document.getElementById(id);
  const slot = document.getElementById(`${id}-error`);
  if (!control) return null;
  control.setAttribute("aria-invalid", "true");
  if (slot) {
    slot.textContent = text;
    slot.hidden = false;
  }
  return control;
}

/** Clears every field error inside `root`. */
export function clearInvalid(root: ParentNode = document): void {
  for (const c of root.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  for (const s of root.querySelectorAll<HTMLElement>(".field-error")) {
    s.textContent = "";
    s.hidden = true;
  }
}

/** A `<section>` with a heading, labelled by it (a landmark region). */
export function section(id: string, title: string, ...children: Node[]): HTMLElement {
  return el(
    "section",
    { id, "aria-labelledby": `${id}-title`, class: "card" },
    el("h2", { id: `${id}-title` }, title),
    ...children,
  );
}

/** `blob:` URLs of the download links on the page, released when their link goes. */
const _downloads = new Set<string>();

/** A download link for `bytes` (its `blob:` URL is released when the link leaves the page). */
export function download(bytes: Uint8Array, name: string, label: string): HTMLAnchorElement {
  const href = URL.createObjectURL(
    new Blob([bytes as BlobPart], { type: "application/octet-stream" }),
  );
  _downloads.add(href);
  return el("a", { href, download: name }, label);
}

/**
 * Releases the `blob:` URL of every download link removed from `root`'s subtree (a new
 * result replacing the old one, sign-out), so that signed files do not pile up in the
 * browser's memory until the page closes.
 */
export function watchDownloads(root: Node): void {
  new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.removedNodes) {
        if (!(n instanceof Element)) continue;
        const links = n.matches("a[download]") ? [n] : [...n.querySelectorAll("a[download]")];
        for (const a of links) {
          const href = a.getAttribute("href") ?? "";
          if (_downloads.delete(href)) URL.revokeObjectURL(href);
        }
      }
    }
  }).observe(root, { childList: true, subtree: true });
}

/**
 * A hidden `username` input for a form that asks only for a pass phrase, so that password
 * managers (and Chromium's form checks) know whose pass phrase it is.
 */
export function usernameHint(identity: string): HTMLInputElement {
  return el("input", {
    type: "text",
    autocomplete: "username",
    value: identity,
    hidden: true,
    readonly: true,
    tabindex: "-1",
    "aria-hidden": "true",
  });
}
