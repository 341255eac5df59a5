// One initialised, migrated PGlite store for the whole run, dumped to a file
// by vitest's globalSetup; each in-memory test store starts from it instead
// of running initdb and every migration again (about 80 % of a store's start).
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { dumpPgliteTemplate } from "../../src/storage/pglite-template-writer.js";

const VARIABLE = "KEYWARD_TEST_PGLITE_TEMPLATE";

/** vitest globalSetup: writes the template (as the build does) before any worker starts, and removes it after the run. */
export default async function setup(): Promise<() => Promise<void>> {
  const path = join(tmpdir(), `keyward-pglite-template-${process.pid}.tar.gz`);
  await writeFile(path, await dumpPgliteTemplate());
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
