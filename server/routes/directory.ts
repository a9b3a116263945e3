/**
 * The public directory (docs/lifecycle.md): `GET /directory/<identity>` (JSON as the
 * vault's `directory.get`; `?format=pem`: the certificate then its chain),
 * `GET /directory/<identity>/history` (as `directory.history`), `GET /ca.pem` (the CA
 * certificate, cached, server/integrity_cert.ts) and `GET /crl.pem` (as `crl.get`, not
 * cached). Every answer is `no-cache`: a revocation shows at once.
 *
 * @module
 */
import { Hono } from "hono";
import { ApiError } from "../../platform/mod.ts";
import { IDENTITY_PATTERN } from "../../protocol/mod.ts";
import type { IntegrityCert } from "../integrity_cert.ts";
import type { VaultCaller } from "../vault_caller.ts";
import type { ClientAddress } from "./request.ts";

/** What the routes need. */
export interface DirectoryDeps {
  vault: VaultCaller;
  integrityCert: IntegrityCert;
  clientAddress: ClientAddress;
}

/** The routes, to mount at `/`. */
export function directoryRoutes(deps: DirectoryDeps): Hono {
  const app = new Hono();
  app.get("/directory/:identity", async (c) => {
    const id = _identity(c.req.param("identity"));
    const entry = await deps.vault.call("directory.get", { identity: id }, deps.clientAddress(c));
    c.header("Cache-Control", "no-cache");
    if (c.req.query("format") === "pem") {
      return c.body(_pemChain(entry), 200, { "Content-Type": "application/pem-certificate-chain" });
    }
    return c.json(entry);
  });
  app.get("/directory/:identity/history", async (c) => {
    const id = _identity(c.req.param("identity"));
    const history = await deps.vault.call(
      "directory.history",
      { identity: id },
      deps.clientAddress(c),
    );
    c.header("Cache-Control", "no-cache");
    return c.json(history);
  });
  app.get("/crl.pem", async (c) => {
    // Not cached here: the vault re-signs it in the transaction of every revocation.
    const r = await deps.vault.call("crl.get", {}, deps.clientAddress(c));
    if (typeof r.crl !== "string") {
      throw new ApiError(503, "vault_unavailable", "the CRL is unavailable");
    }
    c.header("Cache-Control", "no-cache");
    return c.body(r.crl, 200, { "Content-Type": "application/x-pem-file" });
  });
  app.get("/ca.pem", async (c) => {
    const pem = await deps.integrityCert(deps.clientAddress(c));
    c.header("Cache-Control", "no-cache");
    return c.body(pem, 200, { "Content-Type": "application/pem-certificate-chain" });
  });
  return app;
}

function _identity(id: string): string {
  if (!IDENTITY_PATTERN.test(id)) throw new ApiError(400, "bad_identity", "not an identity");
  return id;
}

/** The user's certificate first (what `openssl x509 -in` reads), then the chain. */
function _pemChain(entry: Record<string, unknown>): string {
  const chain = Array.isArray(entry.chain) ? entry.chain.filter((c) => typeof c === "string") : [];
  return [entry.certificate, ...chain].filter((c): c is string => typeof c === "string")
    .map((c) => (c.endsWith("\n") ? c : `${c}\n`)).join("");
}
