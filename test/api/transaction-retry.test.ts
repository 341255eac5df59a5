// A deadlock between two admin writes on PostgreSQL: PostgreSQL aborts one of
// them (40P01), and Store.transaction runs that one again instead of failing
// the caller's request with INTERNAL. PostgreSQL only: PGlite has one
// connection, so its transactions never interleave.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { DAY, expiresIn, grpcClients, keyWithPermissions, uniqueName, type Clients } from "../support/fixtures.js";
import { startKeyward, type RunningKeyward } from "../support/keyward.js";
import { POSTGRES_URL, freshPostgresDatabase } from "../support/stores.js";

describe.skipIf(!POSTGRES_URL)("transactions on PostgreSQL", () => {
  let kw: RunningKeyward;
  let c: Clients;

  beforeAll(async () => {
    kw = await startKeyward({ kind: "postgres", url: await freshPostgresDatabase() });
    c = grpcClients(kw.port);
  });
  afterAll(async () => {
    c?.close();
    await kw?.close();
  });

  it("runs a deadlock's victim again, so both writes succeed", async () => {
    const { policyId } = await keyWithPermissions(kw, c, ["keyward.keys.check"]);
    const create = async () =>
      (await c.keys.call(ApiKeyService.method.adminCreateApiKey, { name: uniqueName("locked"), policyId, expireTime: expiresIn(kw, DAY) }, kw.adminKey)).apiKey!.id;
    const [first, second] = [await create(), await create()];
    // Each transaction locks one key, waits until the other holds its own, then asks for the other's: a deadlock.
    let holding = 0;
    let bothHold!: () => void;
    const together = new Promise<void>((resolve) => (bothHold = resolve));
    let runs = 0;
    const lockBoth = (a: string, b: string) =>
      kw.keyward.store.transaction(async (repos) => {
        runs++;
        await repos.apiKeys.getForUpdate(a);
        if (++holding === 2) bothHold();
        await together;
        await repos.apiKeys.getForUpdate(b);
      });
    await Promise.all([lockBoth(first, second), lockBoth(second, first)]);
    // Both committed; one of them ran twice.
    expect(runs).toBe(3);
  });
});
