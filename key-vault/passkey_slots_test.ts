/**
 * `rewrapPasskeySlots()` (key-vault/operations/passkeys.ts): re-registration replaces every
 * passkey's slot, only when the slots sent are for exactly the identity's passkeys and keep
 * each one's enrolled salt and public key (docs/passkeys.md, "Re-registration").
 */
import { BACKENDS, openTestDb } from "../tests/fixtures/db.ts";
import { assertEquals } from "../tests/fixtures/assert.ts";
import { ApiError } from "../platform/mod.ts";
import { b64uEncode, canonicalJson } from "../protocol/mod.ts";
import { rewrapPasskeySlots } from "./operations/passkeys.ts";
import * as repo from "./repositories/mod.ts";

const b64 = (n: number, fill: number) => b64uEncode(new Uint8Array(n).fill(fill));

function slot(id: number, o: { salt?: number; pub?: number; wrap?: number } = {}) {
  return {
    kind: "passkey" as const,
    credentialId: b64(16, id),
    salt: b64(32, o.salt ?? id),
    pub: b64(32, o.pub ?? 100 + id),
    epk: b64(32, o.wrap ?? 0),
    iv: b64(12, o.wrap ?? 0),
    wrapped: b64(48, o.wrap ?? 0),
    tag: b64(32, o.wrap ?? 0),
  };
}

for (const kind of BACKENDS) {
  Deno.test(`rewrapPasskeySlots() on ${kind}: exactly the identity's passkeys, salt and pub kept`, async (t) => {
    const tdb = await openTestDb(kind);
    if (!tdb) return; // postgresAvailable() printed why
    const db = tdb.db;
    const now = new Date();
    const identity = `rewrap${crypto.getRandomValues(new Uint32Array(1))[0]}`;
    try {
      await repo.insertPendingUser(db, {
        identity,
        fullName: "Ada Lovelace",
        accountNumber: "12-34-56 12345678",
        address: "1 Analytical Row",
      }, now);
      for (const id of [1, 2]) {
        await repo.insertPasskey(db, {
          credentialId: slot(id).credentialId,
          identity,
          publicKey: b64(65, id),
          counter: 0,
          transports: [],
          name: `key ${id}`,
          slot: canonicalJson(slot(id)),
          now,
        });
      }
      const stored = async () =>
        (await repo.listPasskeys(db, identity)).map((p) => JSON.parse(p.slot));
      const codeOf = (sent: ReturnType<typeof slot>[]) =>
        db.transaction().execute((tx) => rewrapPasskeySlots(tx, identity, sent)).then(
          () => "ok",
          (e) => e instanceof ApiError ? e.code : Promise.reject(e),
        );

      for (
        const [what, sent] of [
          ["one left out", [slot(1, { wrap: 7 })]],
          ["none", []],
          ["one unknown added", [slot(1, { wrap: 7 }), slot(2, { wrap: 7 }), slot(3, { wrap: 7 })]],
          ["one twice", [slot(1, { wrap: 7 }), slot(1, { wrap: 7 })]],
          ["another salt", [slot(1, { wrap: 7 }), slot(2, { wrap: 7, salt: 9 })]],
          ["another pub", [slot(1, { wrap: 7 }), slot(2, { wrap: 7, pub: 9 })]],
        ] as const
      ) {
        await t.step(`${what}: passkey_slots_mismatch, nothing stored`, async () => {
          assertEquals(await codeOf([...sent]), "passkey_slots_mismatch");
          assertEquals(await stored(), [slot(1), slot(2)]);
        });
      }

      await t.step("exactly the passkeys, salt and pub kept: every slot replaced", async () => {
        const sent = [slot(2, { wrap: 7 }), slot(1, { wrap: 8 })];
        assertEquals(
          await db.transaction().execute((tx) => rewrapPasskeySlots(tx, identity, sent)),
          2,
        );
        assertEquals(await stored(), [slot(1, { wrap: 8 }), slot(2, { wrap: 7 })]);
      });
    } finally {
      await tdb.dispose();
    }
  });
}
