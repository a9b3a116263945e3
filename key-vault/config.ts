/**
 * The vault's configuration, from the environment (every variable is in the README).
 *
 * @module
 */
import { dataDir, secretEnvName } from "../platform/mod.ts";
import { KSF_DEFAULT, type KsfParams } from "../protocol/mod.ts";

/** Everything the vault process reads at start. */
export interface VaultConfig {
  host: string;
  port: number;
  dataDir: string;
  /** `postgres://…`, or undefined for PGlite in `<dataDir>/pg`. */
  databaseUrl?: string;
  /** PostgreSQL pool size. */
  poolSize: number;
  consentTtlDays: number;
  consentMaxAttempts: number;
  certValidityDays: number;
  loginTtlMs: number;
  /**
   * How long a login finished for re-authentication stays usable by one `reregister`
   * or `revoke` (docs/lifecycle.md, "Re-authentication"); default 2 minutes.
   */
  reauthTtlMs?: number;
  /**
   * The Argon2id parameters of OPAQUE's key stretching that the vault sets for new
   * registrations and re-registrations (docs/lifecycle.md, "Stretching parameters"):
   * `VAULT_KSF_MEMORY_KIB`, `VAULT_KSF_ITERATIONS`, `VAULT_KSF_PARALLELISM`; default
   * 64 MiB, 3 passes, 4 lanes (the applet's floor, KSF_FLOOR).
   */
  ksf: KsfParams;
  /** How often the audit chain is sealed (`VAULT_SEAL_INTERVAL_MS`); default 250 ms. */
  sealIntervalMs?: number;
  /** What passkey answers must name (docs/passkeys.md); default {@link webauthnConfigFromEnv}. */
  webauthn?: WebauthnConfig;
}

/** The relying party passkeys are bound to (docs/passkeys.md). */
export interface WebauthnConfig {
  /** `WEBAUTHN_RP_ID`: the site's host name (never an IP address), default `localhost`. */
  rpId: string;
  /** `WEBAUTHN_ORIGINS`: the page origins accepted, default `http://localhost:$PORT`. */
  origins: string[];
  /** `WEBAUTHN_RP_NAME`: what an authenticator shows, default `roamsign`. */
  rpName: string;
}

/**
 * Reads the relying party: `WEBAUTHN_RP_ID` (default `localhost`), `WEBAUTHN_ORIGINS`
 * (comma-separated; default `http://localhost:$PORT`, PORT the web server's, 8000), and
 * `WEBAUTHN_RP_NAME`. Every origin's host must be the RP ID or end in `.<RP ID>`, and the
 * RP ID must not be an IP address (WebAuthn refuses those).
 */
export function webauthnConfigFromEnv(env: Record<string, string> = Deno.env.toObject()) {
  const rpId = env.WEBAUTHN_RP_ID || "localhost";
  if (/^[0-9.]+$/.test(rpId) || rpId.includes(":") || !/^[a-z0-9.-]{1,253}$/i.test(rpId)) {
    throw new Error("config: WEBAUTHN_RP_ID must be a host name, not an IP address");
  }
  const origins = (env.WEBAUTHN_ORIGINS || `http://localhost:${env.PORT || 8000}`)
    .split(",").map((o) => o.trim()).filter((o) => o !== "");
  for (const o of origins) {
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new Error(`config: WEBAUTHN_ORIGINS: ${JSON.stringify(o)} is not a URL`);
    }
    const host = url.hostname;
    if (
      url.origin !== o || !/^https?:$/.test(url.protocol) ||
      (host !== rpId && !host.endsWith(`.${rpId}`))
    ) {
      throw new Error(`config: WEBAUTHN_ORIGINS: ${o} is not an origin under ${rpId}`);
    }
  }
  return { rpId, origins, rpName: env.WEBAUTHN_RP_NAME || "roamsign" };
}

function _int(name: string, fallback: number, min: number, max: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`config: ${name} must be an integer in ${min}..${max}`);
  }
  return n;
}

/** Reads the configuration; throws with the variable's name when one is malformed. */
export function vaultConfigFromEnv(): VaultConfig {
  return {
    host: Deno.env.get("VAULT_HOST") || "127.0.0.1",
    port: _int("VAULT_PORT", 8002, 0, 65535),
    dataDir: dataDir(),
    databaseUrl: Deno.env.get("DATABASE_URL") || undefined,
    poolSize: _int("VAULT_DB_POOL", 10, 1, 200),
    consentTtlDays: _int("CONSENT_TTL_DAYS", 14, 1, 365),
    consentMaxAttempts: _int("CONSENT_MAX_ATTEMPTS", 5, 1, 100),
    certValidityDays: _int("CERT_VALIDITY_DAYS", 365, 1, 3650),
    loginTtlMs: _int("LOGIN_TTL_SECONDS", 120, 10, 3600) * 1000,
    reauthTtlMs: _int("REAUTH_TTL_SECONDS", 120, 10, 600) * 1000,
    sealIntervalMs: _int("VAULT_SEAL_INTERVAL_MS", 250, 1, 86_400_000),
    webauthn: webauthnConfigFromEnv(),
    ksf: _ksf(),
  };
}

/**
 * The vault's stretching parameters from the environment. Values below the applet's
 * floor are allowed (the test harness and the load benchmarks run light), but such a
 * vault serves only clients built with a lower floor: the applet refuses them.
 */
function _ksf(): KsfParams {
  const parallelism = _int("VAULT_KSF_PARALLELISM", KSF_DEFAULT.parallelism, 1, 64);
  return {
    memory: _int("VAULT_KSF_MEMORY_KIB", KSF_DEFAULT.memory, 8 * parallelism, 4_194_304),
    iterations: _int("VAULT_KSF_ITERATIONS", KSF_DEFAULT.iterations, 1, 64),
    parallelism,
  };
}

/** What the operator CLI (`deno task admin`, key-vault/admin.ts) reads at start. */
export interface AdminConfig {
  /** The proxy it talks to: `PROXY_URL`, else `http://127.0.0.1:<PROXY_PORT or 8001>`. */
  proxyUrl: string;
  dataDir: string;
  /** The default `--by` of `revoke`: `USER`, else `LOGNAME`. */
  operator?: string;
}

/** Reads the operator CLI's configuration. */
export function adminConfigFromEnv(): AdminConfig {
  return {
    proxyUrl: Deno.env.get("PROXY_URL") ||
      `http://127.0.0.1:${Deno.env.get("PROXY_PORT") || 8001}`,
    dataDir: dataDir(),
    operator: Deno.env.get("USER") || Deno.env.get("LOGNAME") || undefined,
  };
}

/** What `deno task rotate-master-key` (key-vault/rotate_master_key.ts) reads at start. */
export interface RotateConfig {
  vault: VaultConfig;
  /** Whether the master key comes from `VAULT_MASTER_KEY` rather than its file. */
  masterKeyInEnv: boolean;
}

/** Reads the master-key rotation's configuration. */
export function rotateConfigFromEnv(): RotateConfig {
  return {
    vault: vaultConfigFromEnv(),
    masterKeyInEnv: Deno.env.get(secretEnvName("vault-master.key")) !== undefined,
  };
}
