import { assertEquals, assertOk } from "../../tests/fixtures/assert.ts";
import { EXIT_UNAVAILABLE, EXIT_USAGE, runVerify, verifyEnvFrom } from "./main.ts";
import { loadHostKeys } from "../host-bank/mod.ts";
import {
  parseCertificate,
  pemDecode,
  type Receipt,
  receiptText,
  sha256,
  signedReceiptFile,
  toHex,
  utf8,
} from "../../protocol/mod.ts";

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runVerify(args, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("deno task verify: missing or unknown arguments are a usage error (64)", async () => {
  assertEquals((await run([])).code, EXIT_USAGE);
  assertEquals((await run(["--identity", "alice", "--message", "m"])).code, EXIT_USAGE);
  assertEquals((await run(["--frobnicate"])).code, EXIT_USAGE);
  const alg = await run([
    "--identity",
    "alice",
    "--message",
    "m",
    "--signature",
    "s",
    "--alg",
    "md5",
  ]);
  assertEquals(alg.code, EXIT_USAGE);
  assertOk(alg.err.includes("--alg"), alg.err);
});

Deno.test("deno task verify: an unreachable directory is 69, never a verdict", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/m`, "hello");
    await Deno.writeFile(`${dir}/s`, new Uint8Array(256));
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const r = await run([
      "--",
      "--identity",
      "alice",
      "--message",
      `${dir}/m`,
      "--signature",
      `${dir}/s`,
      "--server",
      `http://127.0.0.1:${port}`,
    ]);
    assertEquals(r.code, EXIT_UNAVAILABLE);
    assertOk(r.err.includes("directory_unavailable"), r.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs with `DATA_DIR` as given, against a server that does not answer. */
async function runOffline(dataDir: string) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/m`, "hello");
    await Deno.writeFile(`${dir}/s`, new Uint8Array(256));
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const args = ["--identity", "alice", "--message", `${dir}/m`, "--signature", `${dir}/s`];
    const out: string[] = [];
    const err: string[] = [];
    const code = await runVerify(
      [...args, "--server", `http://127.0.0.1:${port}`],
      (s) => out.push(s),
      (s) => err.push(s),
      { dataDir },
    );
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno task verify: without --ca it pins DATA_DIR/ca.pem when there is one", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    // A file that is not a certificate: if it is used, the CA check fails before any fetch.
    await Deno.writeTextFile(`${dataDir}/ca.pem`, "not a certificate\n");
    const r = await runOffline(dataDir);
    assertEquals(r.code, EXIT_UNAVAILABLE);
    assertOk(r.err.includes("bad_directory"), r.err); // not directory_unavailable: no fetch
    assertOk(!r.err.includes("trusts the CA"), r.err);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("deno task verify: without --ca or a local CA it says it trusts the CA it fetched", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const r = await runOffline(dataDir);
    assertEquals(r.code, EXIT_UNAVAILABLE);
    assertOk(r.err.includes("trusts the CA certificate the server sends"), r.err);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

// ---- the server from the environment ----------------------------------------------------

Deno.test("verifyEnvFrom(): the server is ROAMSIGN_URL, else 127.0.0.1 on PORT, else :8000", () => {
  const env = (vars: Record<string, string>) => verifyEnvFrom((k) => vars[k]);
  assertEquals(env({}), { dataDir: "./data", server: "http://127.0.0.1:8000" });
  assertEquals(env({ PORT: "9123" }).server, "http://127.0.0.1:9123");
  assertEquals(
    env({ PORT: "9123", ROAMSIGN_URL: "https://sign.example" }).server,
    "https://sign.example",
  );
  assertEquals(env({ DATA_DIR: "/srv/roamsign" }).dataDir, "/srv/roamsign");
});

Deno.test("deno task verify asks the server PORT names when --server is not given", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/m`, "hello");
    await Deno.writeFile(`${dir}/s`, new Uint8Array(256));
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = String((l.addr as Deno.NetAddr).port);
    l.close();
    const args = ["--identity", "alice", "--message", `${dir}/m`, "--signature", `${dir}/s`];
    const cases: [Record<string, string>, string][] = [
      [{ PORT: port, ROAMSIGN_URL: "" }, `http://127.0.0.1:${port}/`],
      [{ PORT: "1", ROAMSIGN_URL: `http://127.0.0.1:${port}` }, `http://127.0.0.1:${port}/`],
    ];
    for (const [vars, url] of cases) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-net", "--allow-read", "--allow-env", MAIN, ...args],
        env: { ...vars, DATA_DIR: dir },
        clearEnv: false,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, EXIT_UNAVAILABLE, err);
      assertOk(err.includes(url), err); // it tried this server, not :8000
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- --receipt ------------------------------------------------------------------------

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const bankDir = await Deno.makeTempDir({ prefix: "roamsign-receipt-" });
globalThis.addEventListener("unload", () => Deno.removeSync(bankDir, { recursive: true }));
const bank = await loadHostKeys(`${bankDir}/bank`, "bank");
const impostor = await loadHostKeys(`${bankDir}/impostor`, "bank");
const fingerprintOf = async (cert: string) =>
  toHex(await sha256(parseCertificate(pemDecode(cert)).spki));
const bankKey = await fingerprintOf(bank.integrityCert);

const receipt: Receipt = {
  v: 2,
  host: "bank",
  receiptId: crypto.randomUUID(),
  messageId: crypto.randomUUID(),
  idempotencyKey: "q83vEjRWeJq83vEjRWeJqw",
  identity: "alice",
  serial: "0a1b2c",
  messageSha256: "ab".repeat(32),
  status: "executed",
  debit: { to: "20-00-00 12345678", amount: "125.00", currency: "GBP", reference: "rent" },
  balance: "875.00",
  processedAt: new Date().toISOString(),
};

/** A receipt file as the applet's download, signed by `keys` over `signed` (default: the receipt). */
async function receiptFile(keys = bank, signed = receiptText(receipt), text = signed) {
  const signature = new Uint8Array(
    await crypto.subtle.sign("RSASSA-PKCS1-v1_5", keys.integrityKey, utf8(signed) as BufferSource),
  );
  return signedReceiptFile({
    receipt: text,
    signature,
    certificate: keys.integrityCert,
    spkiSha256: await fingerprintOf(keys.integrityCert),
  });
}

/** Runs `--receipt` on `file` with a DATA_DIR whose anchors pin `pinned` (none: no anchors). */
async function checkReceipt(file: string, pinned?: string, extra: string[] = [], server?: string) {
  const dataDir = await Deno.makeTempDir();
  try {
    if (pinned) {
      await Deno.mkdir(`${dataDir}/anchors`);
      await Deno.writeTextFile(
        `${dataDir}/anchors/host-bank.json`,
        JSON.stringify({ hosts: { bank: pinned } }),
      );
    }
    await Deno.writeTextFile(`${dataDir}/receipt.json`, file);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runVerify(
      ["--", "--receipt", `${dataDir}/receipt.json`, ...extra],
      (s) => out.push(s),
      (s) => err.push(s),
      { dataDir, server: server ?? "http://127.0.0.1:9" },
    );
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("verify --receipt: the applet's receipt file, signed by the pinned bank key, is valid (0)", async () => {
  const r = await checkReceipt(await receiptFile(), bankKey);
  assertEquals(r.code, 0, r.out + r.err);
  assertOk(r.out.startsWith(`valid: receipt ${receipt.receiptId}`), r.out);
  assertOk(r.out.includes("125.00 GBP from alice to 20-00-00 12345678"), r.out);
  assertOk(r.out.includes(`sha256 ${bankKey}`) && r.out.includes("host-bank.json"), r.out);
  assertEquals(r.err, "");
});

Deno.test("verify --receipt: a changed receipt, or one signed by another key, is invalid (1)", async () => {
  const changed = receiptText({ ...receipt, debit: { ...receipt.debit, amount: "1250.00" } });
  const tampered = await checkReceipt(
    await receiptFile(bank, receiptText(receipt), changed),
    bankKey,
  );
  assertEquals(tampered.code, 1, tampered.out + tampered.err);
  assertOk(tampered.out.includes("does not verify"), tampered.out);
  // Well signed, and carrying its own certificate: but not the key the bank published.
  const other = await checkReceipt(await receiptFile(impostor), bankKey);
  assertEquals(other.code, 1, other.out);
  assertOk(other.out.includes("not the bank's key"), other.out);
  const json = await checkReceipt(await receiptFile(impostor), bankKey, ["--json"]);
  assertEquals(JSON.parse(json.out).verdict, "invalid");
  const notAReceipt = await checkReceipt('{"receipt": "x"}', bankKey);
  assertEquals(notAReceipt.code, 1, notAReceipt.out);
});

Deno.test("verify --receipt --bank-key pins a fingerprint given by hand, over DATA_DIR's", async () => {
  const impostorKey = await fingerprintOf(impostor.integrityCert);
  assertEquals(
    (await checkReceipt(await receiptFile(), undefined, ["--bank-key", bankKey])).code,
    0,
  );
  assertEquals(
    (await checkReceipt(await receiptFile(), bankKey, ["--bank-key", impostorKey])).code,
    1,
  );
  assertEquals(
    (await checkReceipt(await receiptFile(), bankKey, ["--bank-key", "abc"])).code,
    EXIT_USAGE,
  );
});

Deno.test("verify --receipt without a pin asks the server for the bank's key, and says so", async () => {
  const unreachable = await checkReceipt(await receiptFile());
  assertEquals(unreachable.code, EXIT_UNAVAILABLE, unreachable.err);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/api/host"
        ? Response.json({ name: "bank", integrityCert: bank.integrityCert, currency: "GBP" })
        : new Response("no", { status: 404 }),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    const r = await checkReceipt(await receiptFile(), undefined, [], url);
    assertEquals(r.code, 0, r.out + r.err);
    assertOk(r.err.includes("trusts the bank key the server names"), r.err);
    const other = await checkReceipt(await receiptFile(impostor), undefined, ["--server", url]);
    assertEquals(other.code, 1, other.out);
  } finally {
    await server.shutdown();
  }
});

Deno.test("verify --receipt: usage errors (64)", async () => {
  const file = await receiptFile();
  assertEquals((await checkReceipt(file, bankKey, ["--identity", "alice"])).code, EXIT_USAGE);
  assertEquals((await run(["--receipt", "/nonexistent/receipt.json"])).code, EXIT_USAGE);
  const stray = await run([
    "--identity",
    "a",
    "--message",
    "m",
    "--signature",
    "s",
    "--bank-key",
    bankKey,
  ]);
  assertEquals(stray.code, EXIT_USAGE);
  const missing = await run(["--identity", "alice", "--message", "m"]);
  assertOk(missing.err.includes("missing --signature"), missing.err);
});
