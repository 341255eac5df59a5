// One initialised, migrated PGlite store for the whole run, dumped to a file
// by vitest's globalSetup; each in-memory test store starts from it instead
// of running initdb and every migration again (about 80 % of a store's start).
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { Kysely } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import type { Database } from "../../src/storage/database.js";
import { migrateToLatest } from "../../src/storage/migrate.js";

const VARIABLE = "KEYWARD_TEST_PGLITE_TEMPLATE";

/** vitest globalSetup: writes the template before any worker starts, and removes it after the run. */
export default async function setup(): Promise<() => Promise<void>> {
  const pglite = await PGlite.create();
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  await migrateToLatest(db);
  const dump = await pglite.dumpDataDir("none");
  await db.destroy();
  const path = join(tmpdir(), `keyward-pglite-template-${process.pid}.tar`);
  await writeFile(path, Buffer.from(await dump.arrayBuffer()));
  // Workers are started after this and inherit the variable.
  process.env[VARIABLE] = path;
  return () => rm(path, { force: true });
}

let template: Promise<Blob | undefined> | undefined;

/** The run's template, read once per worker; undefined outside a vitest run with the globalSetup. */
export function pgliteTemplate(): Promise<Blob | undefined> {
  const path = process.env[VARIABLE];
  template ??= path === undefined ? Promise.resolve(undefined) : readFile(path).then((bytes) => new Blob([bytes]));
  return template;
}
