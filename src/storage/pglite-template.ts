// A new embedded store starts from a dump of one already initialised and
// migrated, made once by `npm run build` (scripts/build.mjs) and kept beside
// the compiled code, instead of running PostgreSQL's initdb in WebAssembly at
// the first start (most of a fresh store's start: seconds of CPU). The dump
// sits only in dist/, so a run from source (tests, tsx) never starts from a
// dump made of another revision's migrations; migrateToLatest still runs
// after loading it, as at every start.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { PGlite } from "@electric-sql/pglite";
import { Kysely } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import type { Database } from "./database.js";
import { migrateToLatest } from "./migrate.js";

/** dist/pglite-template.tar.gz when this module runs from dist/src/storage/. */
const TEMPLATE = fileURLToPath(new URL("../../pglite-template.tar.gz", import.meta.url));

/** The build's template, or undefined when there is none (a run from source). */
export function builtPgliteTemplate(): Blob | undefined {
  // Unpacked here by zlib: PGlite's own unpacking of a gzipped dump took longer than the rest of the load.
  return existsSync(TEMPLATE) ? new Blob([gunzipSync(readFileSync(TEMPLATE))], { type: "application/x-tar" }) : undefined;
}

/** Writes the template: a fresh store, every migration applied, dumped gzipped. Called by the build. */
export async function dumpPgliteTemplate(): Promise<Uint8Array> {
  const pglite = await PGlite.create();
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  try {
    await migrateToLatest(db);
    return new Uint8Array(await (await pglite.dumpDataDir("gzip")).arrayBuffer());
  } finally {
    await db.destroy();
  }
}
