import { assert } from "./test_assert.ts";
import { buildWasm } from "./build.ts";

Deno.test("both builds: the memory regions do not overlap, and the public context lies in scratch", async () => {
  const builds = await buildWasm();
  for (const bytes of [builds.bytes, builds.relaxed.bytes]) {
    const module = await WebAssembly.compile(new Uint8Array(bytes));
    const instance = await WebAssembly.instantiate(module, { env: { abort() {} } });
    const c = instance.exports as Record<string, () => number>;
    // the fixed regions in address order: name, start, end
    const regions: [string, number, number][] = [
      ["io", c.layout_io(), c.layout_io() + c.layout_io_size()],
      ["scratch", c.layout_scratch(), c.layout_scratch() + c.layout_scratch_size()],
      ["sha_ctx", c.layout_sha_ctx(), c.layout_sha_ctx() + c.layout_sha_ctx_size()],
      ["kg (p, q)", c.layout_kg(), c.layout_kg() + 2 * 512],
      ["keys", c.layout_keys(), c.layout_keys() + c.layout_slot_size()],
    ];
    for (let i = 1; i < regions.length; i++) {
      const [prev, , prevEnd] = regions[i - 1], [name, start] = regions[i];
      assert(prevEnd <= start, `${prev} ends at ${prevEnd}, after ${name} starts at ${start}`);
    }
    const [, s0, s1] = regions[1];
    const p0 = c.layout_pub_ctx(), p1 = p0 + c.layout_pub_ctx_size();
    assert(s0 <= p0 && p1 <= s1, `public context ${p0}..${p1} outside scratch ${s0}..${s1}`);
  }
});
