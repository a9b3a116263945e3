/**
 * The applet's built files, for the weight table. When the web server's build
 * (`server/build.ts`, `buildApplet()`, the server issue) is present, the bench builds
 * the applet into a temporary directory and reads the files its manifest lists;
 * until then it says why there is nothing to weigh. `ROAMSIGN_APPLET_JS` (a path to
 * one built bundle) overrides both.
 *
 * @module
 */
import { REPO_ROOT } from "./ours_loader.ts";

export interface AppletFile {
  /** Role in the manifest (page, worker, html, style, wasm) or "bundle". */
  role: string;
  bytes: Uint8Array;
  /** The URL path the server gives it (from the manifest). */
  urlPath?: string;
  type?: string;
}

export interface AppletBundle {
  files: AppletFile[];
  /** The applet manifest (`/.well-known/roamsign/manifest.json`), when built by server/build.ts. */
  manifest?: unknown;
  /** Where the bytes came from, shown in the report. */
  source: string;
}

export const SERVER_BUILD = new URL("server/build.ts", REPO_ROOT);

async function _exists(url: URL): Promise<boolean> {
  try {
    return (await Deno.stat(url)).isFile;
  } catch {
    return false;
  }
}

/**
 * Anchors for a bundle that is only weighed and started, never used against a vault:
 * well-formed values of the right sizes (a real RSA-3072 SPKI), trusted by nobody.
 */
async function _benchAnchors() {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      hash: "SHA-256",
      modulusLength: 3072,
      publicExponent: new Uint8Array([1, 0, 1]),
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const b64u = (b: Uint8Array) =>
    btoa(String.fromCharCode(...b)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  return {
    v: 1,
    caSpkiSha256: b64u(crypto.getRandomValues(new Uint8Array(32))),
    vaultSigningSpki: b64u(spki),
    opaqueServerPublicKey: b64u(crypto.getRandomValues(new Uint8Array(32))),
    hosts: { bank: "00".repeat(32) },
  };
}

export async function appletBundle(): Promise<AppletBundle | { unavailable: string }> {
  const path = Deno.env.get("ROAMSIGN_APPLET_JS");
  if (path) return { files: [{ role: "bundle", bytes: await Deno.readFile(path) }], source: path };
  if (!(await _exists(SERVER_BUILD))) {
    return { unavailable: "server/build.ts not found (the applet is not built yet)" };
  }
  const outDir = await Deno.makeTempDir({ prefix: "roamsign-bench-applet-" });
  try {
    const build = await import(SERVER_BUILD.href);
    if (typeof build.buildApplet !== "function") {
      return { unavailable: "server/build.ts exports no buildApplet()" };
    }
    const result = await build.buildApplet({ outDir, force: true, anchors: await _benchAnchors() });
    const entries = result?.manifest?.entries as Record<string, unknown> | undefined;
    if (!entries || typeof entries !== "object") {
      return { unavailable: "buildApplet() returned no manifest entries" };
    }
    const types = (result.manifest.files ?? {}) as Record<string, { type?: string }>;
    const files: AppletFile[] = [];
    for (const [role, urlPath] of Object.entries(entries)) {
      if (typeof urlPath !== "string") continue;
      const disk = urlPath === "/" ? "index.html" : urlPath.replace(/^\//, "");
      files.push({
        role,
        urlPath,
        type: types[urlPath]?.type,
        bytes: await Deno.readFile(`${outDir}/${disk}`),
      });
    }
    return { files, manifest: result.manifest, source: "server/build.ts buildApplet()" };
  } catch (e) {
    return { unavailable: `applet build failed: ${(e as Error).message.split("\n")[0]}` };
  } finally {
    await Deno.remove(outDir, { recursive: true }).catch(() => {});
  }
}
