/**
 * What the build's link step compiles into the worker bundle (server/build.ts,
 * docs/trust-anchors.md): the deployment's trust anchors and the SHA-256 of both
 * wasm-crypto builds. The source holds a placeholder string; the link step replaces
 * it with the JSON text, so the worker's own bytes — which the page checks with
 * Subresource Integrity before it starts the worker — carry what it trusts. Nothing
 * here comes from the network at run time, and the manifest is never consulted.
 *
 * @module
 */
import { type Linked, parseLinked } from "../protocol/mod.ts";

export { LINK_PLACEHOLDER, type Linked, type LinkedWasm, parseLinked } from "../protocol/mod.ts";

// Replaced as a whole string literal by the link step; never written by hand.
const _LINKED_JSON: string = "__ROAMSIGN_LINK__";

/** The data this bundle was linked with. */
export function linked(): Linked {
  return parseLinked(_LINKED_JSON);
}
