/**
 * The shared secrets of a roamsign installation (docs/architecture.md): 32 random
 * bytes each, base64url, one file per secret in `DATA_DIR/secrets/`, mode 0600.
 * `server/start.ts` creates missing files before any child starts; each process
 * then reads its own. An environment variable named after the file, upper case
 * with `_` for `-` and `.` (`web-proxy.key` → `WEB_PROXY_KEY`), overrides
 * the file.
 *
 * @module
 */
import { b64uDecode, b64uEncode } from "../protocol/mod.ts";

/** Every secret file, by name. */
export const SECRET_NAMES = [
  "web-proxy.key",
  "admin-proxy.key",
  "proxy-vault.key",
  "vault-master.key",
  // The web tier's own: seals the channel keys and session state that several web servers
  // share in Redis (server/session_keys.ts, docs/operations.md "Several web servers").
  "web-session.key",
] as const;

/** One of {@link SECRET_NAMES}. */
export type SecretName = typeof SECRET_NAMES[number];

/** The environment variable that overrides a secret file. */
export function secretEnvName(name: SecretName): string {
  return name.replaceAll(/[-.]/g, "_").toUpperCase();
}

/**
 * `DATA_DIR` (default `./data`): for a process's `config.ts` (and the vault's CLIs),
 * which pass the value down; the functions below take the directory as an argument.
 */
export function dataDir(): string {
  return Deno.env.get("DATA_DIR") || "./data";
}

/** Creates every missing secret file in `<dataDir>/secrets/` (directory 0700, files 0600). */
export async function ensureSecrets(dir: string): Promise<void> {
  const secretsDir = `${dir}/secrets`;
  await Deno.mkdir(secretsDir, { recursive: true, mode: 0o700 });
  for (const name of SECRET_NAMES) {
    const path = `${secretsDir}/${name}`;
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    try {
      // createNew: never overwrite a secret another process already wrote.
      const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
      try {
        await file.write(new TextEncoder().encode(b64uEncode(bytes) + "\n"));
      } finally {
        file.close();
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    } finally {
      bytes.fill(0);
    }
    await Deno.chmod(path, 0o600);
  }
}

/**
 * Reads a secret: the environment override if set, else the file. Returns the
 * 32 key bytes; throws with the file name (never the value) if missing or malformed.
 *
 * The override is read here, not in a `config.ts`: it is a secret (kept out of config
 * objects, read once, by the one process that uses it, just before the key is imported),
 * its variable name is derived from the file name ({@link secretEnvName}), and the README
 * documents it with the files.
 */
export async function readSecret(name: SecretName, dir: string): Promise<Uint8Array> {
  const env = Deno.env.get(secretEnvName(name));
  const text = env ?? await Deno.readTextFile(`${dir}/secrets/${name}`).catch((err) => {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        `secrets: ${dir}/secrets/${name} is missing and ${secretEnvName(name)} is unset ` +
          "(deno task start creates it)",
      );
    }
    throw err;
  });
  let bytes: Uint8Array;
  try {
    bytes = b64uDecode(text.trim());
  } catch {
    throw new Error(`secrets: ${name} is not base64url`);
  }
  if (bytes.length < 32) throw new Error(`secrets: ${name} is shorter than 32 bytes`);
  return bytes;
}
