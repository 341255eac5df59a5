// PostgreSQL can end any connection at any time (a restart, a failover, an
// administrator). A connection the pool has lent out, waiting between two
// queries of a transaction, must then fail its next query as "unavailable",
// not crash the process with an unhandled "error" event.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isStoreUnavailable } from "../../src/storage/errors.js";
import { openStore } from "../../src/storage/open.js";
import type { Store } from "../../src/storage/store.js";
import { freshPostgresDatabase, POSTGRES_URL } from "../support/stores.js";

describe.skipIf(!POSTGRES_URL)("a PostgreSQL connection lost in the middle of a transaction", () => {
  let store: Store;
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);
  beforeAll(async () => {
    store = await openStore({ kind: "postgres", url: await freshPostgresDatabase() });
    process.on("uncaughtException", record);
  });
  afterAll(async () => {
    process.off("uncaughtException", record);
    await store?.close();
  });

  it("fails the transaction as unavailable, and the store goes on with a new connection", async () => {
    const outcome = await store
      .transaction(async (repos) => {
        await repos.policies.list();
        // From another connection of the pool: end this one while it waits, idle in its transaction.
        await sql`select pg_terminate_backend(pid) from pg_stat_activity
                  where datname = current_database() and state = 'idle in transaction'`.execute(store.db);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await repos.policies.list();
      })
      .then(
        () => "committed",
        (error: unknown) => error,
      );
    expect(isStoreUnavailable(outcome), String(outcome)).toBe(true);
    expect(uncaught).toEqual([]);
    expect(await store.policies.list()).toEqual([]);
  });
});
