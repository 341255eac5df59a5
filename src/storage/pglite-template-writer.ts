// Writes the two forms of the migrated store new embedded stores start from
// (pglite-template.ts): the build's data directory and the tests' dump.
import { PGlite } from "@electric-sql/pglite";
import { Kysely } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import type { Database } from "./database.js";
import { migrateToLatest } from "./migrate.js";

/** A fresh store with every migration applied, in `dataDir` when given (the build's template), else in memory. */
async function migratedStore<T>(dataDir: string | undefined, use: (pglite: PGlite) => Promise<T>): Promise<T> {
  const pglite = await PGlite.create(dataDir === undefined ? {} : { dataDir });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  try {
    await migrateToLatest(db);
    return await use(pglite);
  } finally {
    await db.destroy();
  }
}

/**
 * Writes the build's template directory. Called by the build, into an empty
 * directory. Keyward's data lives in the database PGlite opens, "postgres";
 * initdb's template0 and template1 serve only CREATE DATABASE, which an
 * embedded store never runs, and were 600 of the 1,031 files every new store
 * copied (a fifth of a fresh start).
 */
export const writePgliteTemplateDir = (dir: string): Promise<void> =>
  migratedStore(dir, async (pglite) => {
    for (const database of ["template0", "template1"]) {
      await pglite.exec(`ALTER DATABASE ${database} IS_TEMPLATE false`);
      await pglite.exec(`DROP DATABASE ${database}`);
    }
  });

/** A migrated store dumped gzipped, for in-memory stores to start from. */
export const dumpPgliteTemplate = (): Promise<Uint8Array> =>
  migratedStore(undefined, async (pglite) => new Uint8Array(await (await pglite.dumpDataDir("gzip")).arrayBuffer()));
