// Writes the migrated store new embedded stores start from
// (pglite-template.ts): the build's template directory.
import { PGlite } from "@electric-sql/pglite";
import { Kysely } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import type { Database } from "./database.js";
import { migrateToLatest } from "./migrate.js";

/**
 * Writes the build's template directory. Called by the build, into an empty
 * directory. Keyward's data lives in the database PGlite opens, "postgres";
 * initdb's template0 and template1 serve only CREATE DATABASE, which an
 * embedded store never runs, and were 600 of the 1,031 files every new store
 * copied (a fifth of a fresh start).
 */
export async function writePgliteTemplateDir(dir: string): Promise<void> {
  const pglite = await PGlite.create({ dataDir: dir });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  try {
    await migrateToLatest(db);
    for (const database of ["template0", "template1"]) {
      await pglite.exec(`ALTER DATABASE ${database} IS_TEMPLATE false`);
      await pglite.exec(`DROP DATABASE ${database}`);
    }
  } finally {
    await db.destroy();
  }
}
