/**
 * Same-process A/B of the OPAQUE client: the package as published (inlined wasm) against
 * the applet's split glue and pruned wasm (server/opaque_split.ts), timing the client's
 * `finishLogin` (Argon2id with the applet's default parameters, KSF_DEFAULT), alternating.
 *
 * Run: `deno run -A tools/applet/opaque_ab.ts [rounds]` (default 7)
 *
 * @module
 */
import * as opaque from "@serenity-kit/opaque";
import { opaquePackageUrl, splitOpaque } from "../../server/opaque_split.ts";
import { provideOpaqueWasm } from "../../applet/mod.ts";
import { ROOT } from "../../server/build.ts";
import { KSF_DEFAULT } from "../../protocol/mod.ts";

const rounds = Number(Deno.args[0] ?? 7);
const split = splitOpaque(await Deno.readTextFile(opaquePackageUrl()));
const dir = `${ROOT}/.build/opaque-ab-${crypto.randomUUID()}`;
await Deno.mkdir(dir, { recursive: true });
await Deno.writeTextFile(`${dir}/opaque.js`, split.glue);
const glue = await import(`file://${dir}/opaque.js`) as typeof opaque;
provideOpaqueWasm(split.wasm);
await Promise.all([glue.ready, opaque.ready]);
await Deno.remove(dir, { recursive: true });

const serverSetup = opaque.server.createSetup();
const password = "correct horse battery staple";
const ks = { "argon2id-custom": KSF_DEFAULT };
const reg = opaque.client.startRegistration({ password });
const { registrationResponse } = opaque.server.createRegistrationResponse({
  serverSetup,
  userIdentifier: "u",
  registrationRequest: reg.registrationRequest,
});
const { registrationRecord } = opaque.client.finishRegistration({
  clientRegistrationState: reg.clientRegistrationState,
  registrationResponse,
  password,
  keyStretching: ks,
});

function finishMs(client: typeof opaque.client): number {
  const start = client.startLogin({ password });
  const s = opaque.server.startLogin({
    serverSetup,
    userIdentifier: "u",
    registrationRecord,
    startLoginRequest: start.startLoginRequest,
  });
  const t0 = performance.now();
  const done = client.finishLogin({
    clientLoginState: start.clientLoginState,
    loginResponse: s.loginResponse,
    password,
    keyStretching: ks,
  });
  const ms = performance.now() - t0;
  if (!done) throw new Error("login failed");
  return ms;
}

const a: number[] = [], b: number[] = [];
for (let i = 0; i < rounds; i++) {
  // the order alternates too (A B, B A, …)
  if (i % 2 === 0) {
    a.push(finishMs(opaque.client));
    b.push(finishMs(glue.client));
  } else {
    b.push(finishMs(glue.client));
    a.push(finishMs(opaque.client));
  }
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)];
console.log(`KSF ${JSON.stringify(KSF_DEFAULT)}, ${rounds} alternating rounds`);
console.log(`published (inlined): min ${Math.min(...a).toFixed(0)} median ${med(a).toFixed(0)} ms`);
console.log(`split (pruned):      min ${Math.min(...b).toFixed(0)} median ${med(b).toFixed(0)} ms`);
console.log(`ratio split/published (medians): ${(med(b) / med(a)).toFixed(3)}`);
