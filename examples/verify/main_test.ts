import { assertEquals, assertOk } from "../../tests/fixtures/assert.ts";
import { EXIT_UNAVAILABLE, EXIT_USAGE, runVerify } from "./main.ts";

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
