/// <reference lib="dom" />
/**
 * Issue 14 in real Chromium: a box in front of the web server (a TLS terminator, a
 * CDN, a compromised load balancer) that leaves the applet's files alone but answers
 * `GET /api/session` with its own CA as `integrityCert` and a `confidentialityCert` it
 * issued for its own RSA-OAEP key — well formed, valid, keyEncipherment, the right
 * subject. The applet pins the deployment's CA (applet/protocol/session.ts), so it
 * refuses before it sends anything: the user sees the alert, and the box receives no
 * POST to `/api/session/key` or `/api/rpc`.
 *
 * The screenshot of the alert goes to `tests/artifacts/` (gitignored).
 */
import { assertEquals, assertOk } from "../fixtures/assert.ts";
import { haveChromium, launch, pageWithCspRecorder } from "../fixtures/browser.ts";
import { startStack } from "../../harness/mod.ts";
import { makeTestCa, oaepSpki } from "../fixtures/test_ca.ts";
import { consentPhraseFor, newPassphrase, newUser, openApplet, signInInPage } from "./_applet.ts";
import { applyFromDeno, consentFromDeno } from "./_deno_client.ts";
// The applet in the browser refuses less than its floor: the vault sets KSF_DEFAULT.
import { KSF_DEFAULT } from "../../protocol/mod.ts";

const _ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;

/**
 * Headers the box does not pass on: Deno's fetch decodes gzip itself but keeps
 * `content-encoding`, and the lengths change.
 */
const _HOP = ["content-encoding", "content-length", "transfer-encoding", "connection"];

/** A forwarder that substitutes its own certificates in `/api/session` answers. */
async function startBox(target: string) {
  const ca = await makeTestCa();
  const spki = await oaepSpki();
  const confidentialityCert = await ca.issue(spki, "roamsign confidentiality");
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    requests.push(`${req.method} ${url.pathname}`);
    const headers = new Headers(req.headers);
    const res = await fetch(`${target}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer(),
      redirect: "manual",
    });
    if (req.method === "GET" && url.pathname === "/api/session" && res.ok) {
      const offer = await res.json();
      const forged = { ...offer, integrityCert: ca.pem, confidentialityCert };
      const h = new Headers(res.headers);
      for (const name of _HOP) h.delete(name);
      return new Response(JSON.stringify(forged), { status: res.status, headers: h });
    }
    const h = new Headers(res.headers);
    for (const name of _HOP) h.delete(name);
    return new Response(await res.arrayBuffer(), { status: res.status, headers: h });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    posts: (path: string) => requests.filter((r) => r === `POST ${path}`).length,
    close: () => server.shutdown(),
  };
}

Deno.test({
  name: "[slow] a box in front of the web server substitutes its certificates: nothing is sent",
  ignore: !haveChromium(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const stack = await startStack({ web: true, ksf: KSF_DEFAULT });
    const box = await startBox(stack.webUrl!);
    const browser = await launch();
    try {
      const user = newUser("b");
      const pass = newPassphrase();
      await applyFromDeno(stack.webUrl!, user, pass);
      await consentFromDeno(stack.webUrl!, user, await consentPhraseFor(stack, user.identity));

      const context = await browser.newContext();
      const { page, violations } = await pageWithCspRecorder(context);
      assertEquals(await openApplet(page, box.url), "ready", "the applet itself is untouched");
      const err = await signInInPage(page, user.identity, pass);
      assertEquals(err, "This server's identity could not be verified; nothing was sent.");
      const alert = page.getByRole("alert");
      assertEquals(await alert.getAttribute("data-code"), "untrusted_server");
      assertOk(await alert.isVisible(), "the alert is visible");
      assertOk(box.posts("/api/session") === 0 && box.requests.includes("GET /api/session"));
      assertEquals(box.posts("/api/session/key"), 0, box.requests.join(", "));
      assertEquals(box.posts("/api/rpc"), 0, box.requests.join(", "));
      assertEquals(await page.getByRole("button", { name: "Sign out", exact: true }).count(), 0);
      assertEquals(await violations(), []);

      await Deno.mkdir(_ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${_ARTIFACTS}untrusted-server-alert.png`, fullPage: true });

      // Control: the same user through the real server signs in.
      const direct = await browser.newContext();
      const p2 = await direct.newPage();
      assertEquals(await openApplet(p2, stack.webUrl!), "ready");
      assertEquals(await signInInPage(p2, user.identity, pass), null);
      await direct.close();
      await context.close();
    } finally {
      await browser.close();
      await box.close();
      await stack.stop();
    }
  },
});
