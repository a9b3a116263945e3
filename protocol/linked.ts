/**
 * What the build's link step compiles into the worker bundle (server/build.ts,
 * docs/trust-anchors.md): the deployment's trust anchors and the SHA-256 of both
 * wasm-crypto builds. The source holds a placeholder string; the link step replaces
 * it with the JSON text, so the worker's own bytes — which the page checks with
 * Subresource Integrity before it starts the worker — carry what it trusts. Nothing
 * here comes from the network at run time, and the manifest is never consulted.
 * The OPAQUE client's wasm (server/opaque_split.ts) is linked the same way.
 *
 * The contract half (types, placeholder, parser) lives here, shared by the build and
 * the worker; the worker's own `linked()` is applet/linked.ts.
 *
 * @module
 */
import { type Anchors, parseAnchors } from "./anchors.ts";

/** One wasm file (a wasm-crypto build, the OPAQUE client): its URL path and lower-case hex SHA-256. */
export interface LinkedWasm {
  path: string;
  sha256: string;
}

/** The link step's data. */
export interface Linked {
  anchors: Anchors;
  /** wasm-crypto's two builds and the OPAQUE client's module. */
  wasm: { baseline: LinkedWasm; relaxed: LinkedWasm; opaque: LinkedWasm };
}

/** The placeholder the link step replaces (exactly one occurrence in the bundle). */
export const LINK_PLACEHOLDER = "__ROAMSIGN_LINK__";

const _WASM_PATH = /^\/applet\/[0-9a-f]{64}\.wasm$/;

/** Parses link data; throws when the bundle was not linked or the data is malformed. */
export function parseLinked(json: string): Linked {
  let raw: { anchors?: unknown; wasm?: Record<string, Partial<LinkedWasm>> };
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error("applet: this worker was built without trust anchors (not linked)");
  }
  const wasm = raw.wasm ?? {};
  for (const k of ["baseline", "relaxed", "opaque"]) {
    const w = wasm[k];
    if (!w || !_WASM_PATH.test(w.path ?? "") || !/^[0-9a-f]{64}$/.test(w.sha256 ?? "")) {
      throw new Error(`applet: linked wasm ${k} is malformed`);
    }
  }
  return {
    anchors: parseAnchors(raw.anchors),
    wasm: wasm as Linked["wasm"],
  };
}
