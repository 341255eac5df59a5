// The migrated PGlite store test stores start from, instead of running initdb
// and every migration again (seconds each): the build's template directory,
// dist/pglite-template/ (the globalSetup test/support/build.ts makes it, or
// remakes it when a migration is newer), as the compiled server uses it.
// - A store on disk is copied from the directory (fromTemplate in stores.ts).
// - An in-memory store can only load a dump: this globalSetup dumps the
//   directory once per run, to a file every worker reads once.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { PGlite } from "@electric-sql/pglite";
import { copyPgliteTemplate } from "../../src/storage/pglite-template.js";

/** The build's template directory. */
export const BUILT_TEMPLATE = fileURLToPath(new URL("../../dist/pglite-template", import.meta.url));

const VARIABLE = "KEYWARD_TEST_PGLITE_TEMPLATE";

/** vitest globalSetup (after the build's): dumps the template before any worker starts, and removes the dump after the run. */
export default async function setup(): Promise<() => Promise<void>> {
  // PGlite writes to the directory it opens: it opens a copy.
  const scratch = await mkdtemp(join(tmpdir(), "keyward-pglite-template-"));
  const path = `${scratch}.tar.gz`;
  try {
    const dataDir = join(scratch, "data");
    if (!copyPgliteTemplate(BUILT_TEMPLATE, dataDir)) throw new Error(`no PGlite template in ${BUILT_TEMPLATE}: the build did not make one`);
    const pglite = await PGlite.create({ dataDir });
    try {
      await writeFile(path, new Uint8Array(await (await pglite.dumpDataDir("gzip")).arrayBuffer()));
    } finally {
      await pglite.close();
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  // Workers are started after this and inherit the variable.
  process.env[VARIABLE] = path;
  return () => rm(path, { force: true });
}

let template: Promise<Blob | undefined> | undefined;

/** The run's template, read once per worker; undefined outside a vitest run with the globalSetup. */
export function pgliteTemplate(): Promise<Blob | undefined> {
  const path = process.env[VARIABLE];
  template ??= path === undefined ? Promise.resolve(undefined) : readFile(path).then((bytes) => new Blob([gunzipSync(bytes)]));
  return template;
}
