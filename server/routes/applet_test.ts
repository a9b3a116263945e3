import { assertEquals, assertOk } from "../../tests/fixtures/assert.ts";
import { acceptsGzip, appletRoutes, GzipCache } from "./applet.ts";

Deno.test("acceptsGzip() reads Accept-Encoding as HTTP does", () => {
  assertOk(acceptsGzip("gzip, deflate, br"));
  assertOk(acceptsGzip("br;q=1.0, gzip;q=0.8"));
  assertOk(acceptsGzip("*"));
  assertOk(!acceptsGzip(undefined));
  assertOk(!acceptsGzip("identity"));
  assertOk(!acceptsGzip("gzip;q=0"));
  assertOk(!acceptsGzip("*, gzip;q=0"));
  assertOk(!acceptsGzip("br"));
});

async function _gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

Deno.test("a content-addressed file is compressed once, and again when it changes on disk", async () => {
  const dist = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dist}/applet`);
    const name = "a".repeat(64) + ".js";
    const text = "export const x = 1;\n".repeat(5000);
    await Deno.writeTextFile(`${dist}/applet/${name}`, text);
    const cache = new GzipCache();
    const app = appletRoutes(dist, cache);
    const get = (enc?: string) =>
      app.request(`/applet/${name}`, { headers: enc ? { "accept-encoding": enc } : {} });

    for (let i = 0; i < 3; i++) {
      const r = await get("gzip, deflate");
      assertEquals(r.headers.get("content-encoding"), "gzip");
      assertEquals(r.headers.get("vary"), "Accept-Encoding");
      const body = new Uint8Array(await r.arrayBuffer());
      assertOk(body.length < text.length / 10, "compressed");
      assertEquals(new TextDecoder().decode(await _gunzip(body)), text);
    }
    assertEquals(cache.compressions, 1);

    const plain = await get();
    assertEquals(plain.headers.get("content-encoding"), null);
    assertEquals(await plain.text(), text);

    // What is on disk is what is served: a rewritten file is compressed again.
    const changed = text + "export const y = 2;\n";
    await Deno.writeTextFile(`${dist}/applet/${name}`, changed);
    const r = await get("gzip");
    assertEquals(
      new TextDecoder().decode(await _gunzip(new Uint8Array(await r.arrayBuffer()))),
      changed,
    );
    assertEquals(cache.compressions, 2);

    assertEquals(
      (await app.request(`/applet/${"b".repeat(64)}.js`, {
        headers: { "accept-encoding": "gzip" },
      })).status,
      404,
    );
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
});
