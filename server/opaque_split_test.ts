import * as opaque from "@serenity-kit/opaque";
import { assertEquals, assertOk } from "../tests/fixtures/assert.ts";
import { opaquePackageUrl, splitOpaque } from "./opaque_split.ts";
import { provideOpaqueWasm } from "../applet/mod.ts";
import { ROOT } from "./build.ts";

const source = await Deno.readTextFile(opaquePackageUrl());
const split = splitOpaque(source);

Deno.test("splitOpaque(): the glue holds no wasm, the module only the client's exports", () => {
  assertOk(source.includes("'AGFzbQ"), "the package inlines its wasm");
  assertOk(!split.glue.includes("AGFzbQ"), "the glue does not");
  assertOk(split.glue.length < source.length / 10);
  assertOk(WebAssembly.validate(split.wasm as BufferSource));
  const mod = new WebAssembly.Module(split.wasm as BufferSource);
  const names = WebAssembly.Module.exports(mod).map((e) => e.name);
  for (const n of ["startClientLogin", "finishClientLogin", "startClientRegistration"]) {
    assertOk(names.includes(n), n);
  }
  assertEquals(names.filter((n) => /Server/.test(n)), []);
  assertEquals(WebAssembly.Module.customSections(mod, "name").length, 0);
  assertEquals(splitOpaque(source).wasm, split.wasm, "deterministic");
});

Deno.test("splitOpaque(): a package of another shape fails the build", () => {
  for (
    const changed of [
      source.replace("const ready = __wbg_init", "const ready = init"),
      source.replace("function wasmData(imports)", "function wasmBytes(imports)"),
      source + "\nfunction wasmData(imports){return _loadWasmModule(0, null, 'AGFz')}\n",
    ]
  ) {
    let code: string | undefined;
    try {
      splitOpaque(changed);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    assertEquals(code, "opaque_split_failed");
  }
});

Deno.test("the glue with the split wasm completes OPAQUE against the package's server", async () => {
  // The glue imports applet/opaque_wasm.ts relatively: it must sit two levels below the root.
  const dir = `${ROOT}/.build/opaque-test-${crypto.randomUUID()}`;
  await Deno.mkdir(dir, { recursive: true });
  try {
    await Deno.writeTextFile(`${dir}/opaque.js`, split.glue);
    const glue = await import(`file://${dir}/opaque.js`) as typeof opaque;
    let started = false;
    glue.ready.then(() => started = true);
    await new Promise((r) => setTimeout(r, 20));
    assertOk(!started, "the glue waits for the bytes");
    provideOpaqueWasm(split.wasm);
    await glue.ready;
    await opaque.ready;

    const serverSetup = opaque.server.createSetup();
    const userIdentifier = "alice";
    const password = "correct horse battery staple";
    const ks = { "argon2id-custom": { memory: 1024, iterations: 1, parallelism: 1 } } as const;
    const reg = glue.client.startRegistration({ password });
    const { registrationResponse } = opaque.server.createRegistrationResponse({
      serverSetup,
      userIdentifier,
      registrationRequest: reg.registrationRequest,
    });
    const fin = glue.client.finishRegistration({
      clientRegistrationState: reg.clientRegistrationState,
      registrationResponse,
      password,
      keyStretching: ks,
    });
    const login = (pw: string) => {
      const start = glue.client.startLogin({ password: pw });
      const s = opaque.server.startLogin({
        serverSetup,
        userIdentifier,
        registrationRecord: fin.registrationRecord,
        startLoginRequest: start.startLoginRequest,
      });
      const done = glue.client.finishLogin({
        clientLoginState: start.clientLoginState,
        loginResponse: s.loginResponse,
        password: pw,
        keyStretching: ks,
      });
      if (!done) return null;
      const server = opaque.server.finishLogin({
        serverLoginState: s.serverLoginState,
        finishLoginRequest: done.finishLoginRequest,
      });
      return { client: done, server };
    };
    const ok = login(password);
    assertOk(ok);
    assertEquals(ok.client.sessionKey, ok.server.sessionKey);
    assertEquals(ok.client.exportKey, fin.exportKey);
    assertEquals(ok.client.serverStaticPublicKey, opaque.server.getPublicKey(serverSetup));
    assertEquals(login("wrong horse battery staple"), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the glue's ready stays pending without bytes (no inlined fallback)", async () => {
  // A fresh copy of the hand-off module, never given bytes.
  const dir = `${ROOT}/.build/opaque-test-${crypto.randomUUID()}`;
  await Deno.mkdir(dir, { recursive: true });
  try {
    const handoff = await Deno.readTextFile(`${ROOT}/applet/opaque_wasm.ts`);
    await Deno.mkdir(`${dir}/h`, { recursive: true });
    await Deno.writeTextFile(`${dir}/h/opaque_wasm.ts`, handoff);
    await Deno.writeTextFile(
      `${dir}/h/opaque.js`,
      split.glue.replace('"../../applet/opaque_wasm.ts"', '"./opaque_wasm.ts"'),
    );
    const glue = await import(`file://${dir}/h/opaque.js`) as typeof opaque;
    const first = await Promise.race([
      glue.ready.then(() => "ready"),
      new Promise((r) => setTimeout(() => r("still pending"), 100)),
    ]);
    assertEquals(first, "still pending");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
