// In-memory stores opened from one template share databases: a closed store's
// is emptied and handed to the next (src/storage/pglite-in-memory.ts). Every
// suite relies on a new store being as empty as one just loaded from the
// template, and on a store that is still open never being handed out.
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { openStore } from "../../src/storage/open.js";
import { pgliteTemplate } from "../support/pglite-template.js";

const policy = (id: string) => ({ id, name: id, description: "", permissions: ["billing.read"], creatorKeyId: null, now: new Date() });

describe("in-memory PGlite stores from one template", () => {
  it("start empty after an earlier store wrote, with the migrations still applied", async () => {
    const template = (await pgliteTemplate())!;
    expect(template).toBeDefined();
    const first = await openStore({ kind: "pglite", template });
    await first.policies.insert(policy("left-behind"));
    await sql`set search_path = nowhere`.execute(first.db);
    await first.close();

    const second = await openStore({ kind: "pglite", template });
    try {
      expect(await second.policies.list()).toEqual([]);
      expect((await sql<{ search_path: string }>`show search_path`.execute(second.db)).rows[0]!.search_path).toBe("public");
      await second.policies.insert(policy("left-behind"));
      expect((await second.policies.get("left-behind"))?.name).toBe("left-behind");
    } finally {
      await second.close();
    }
  });

  it("never share a database while both are open", async () => {
    const template = (await pgliteTemplate())!;
    const [a, b] = await Promise.all([openStore({ kind: "pglite", template }), openStore({ kind: "pglite", template })]);
    try {
      await a.policies.insert(policy("only-in-a"));
      expect(await b.policies.list()).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
