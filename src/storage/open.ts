import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import pg from "pg";
import { PgliteChangeFeed, PostgresChangeFeed, type ChangeFeed } from "./changes.js";
import type { Database } from "./database.js";
import { migrateToLatest } from "./migrate.js";
import { Store } from "./store.js";

export type StoreLocation =
  | { kind: "postgres"; url: string; poolSize?: number }
  // dataDir undefined = in memory (tests).
  | { kind: "pglite"; dataDir?: string };

/** Opens the database, applies pending migrations and returns the store. */
export async function openStore(location: StoreLocation): Promise<Store> {
  const { db, changes } =
    location.kind === "postgres"
      ? { db: openPostgres(location.url, location.poolSize ?? 10), changes: new PostgresChangeFeed(location.url) }
      : await openPglite(location.dataDir);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new Store(db, location.kind, changes);
}

function openPostgres(url: string, max: number): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  // Nor one the pool has lent out (the pool stops listening while a client is
  // out, e.g. between two queries of a transaction): its next query fails with
  // a connection error (UNAVAILABLE) and the pool drops it when it comes back.
  pool.on("connect", (client) => client.on("error", () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

async function openPglite(dataDir: string | undefined): Promise<{ db: Kysely<Database>; changes: ChangeFeed }> {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  return { db: new Kysely<Database>({ dialect: new PGliteDialect(pglite) }), changes: new PgliteChangeFeed(pglite) };
}
