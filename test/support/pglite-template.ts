// The migrated PGlite store test stores start from, instead of running initdb
// and every migration again (seconds each): the build's template directory,
// dist/pglite-template/ (the globalSetup test/support/build.ts makes it, or
// remakes it when a migration is newer), as the compiled server uses it.
// - A store on disk is copied from the directory (fromTemplate in stores.ts).
// - An in-memory store can only load a dump: this globalSetup dumps the
//   directory, once per build (the dump is kept in node_modules/.cache, where
//   tools keep what they can remake), to a file every worker reads once.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { copyPgliteTemplate } from "../../src/storage/pglite-template.js";

/** The build's template directory. */
export const BUILT_TEMPLATE = fileURLToPath(new URL("../../dist/pglite-template", import.meta.url));

/** When the build was made (scripts/build.mjs writes it last). */
const BUILD_STAMP = fileURLToPath(new URL("../../dist/.built", import.meta.url));

/** The dump of this build's template: made by the first run after a build, read by every run until the next. */
const DUMP = fileURLToPath(new URL("../../node_modules/.cache/keyward/pglite-template.tar", import.meta.url));

const VARIABLE = "KEYWARD_TEST_PGLITE_TEMPLATE";

/** vitest globalSetup (after the build's): dumps the template, unless this build's dump is there, before any worker starts. */
export default async function setup(): Promise<void> {
  const stamp = readFileSync(BUILD_STAMP, "utf8");
  const stampOfDump = `${DUMP}.built`;
  if (!existsSync(stampOfDump) || readFileSync(stampOfDump, "utf8") !== stamp) {
    await mkdir(dirname(DUMP), { recursive: true });
    // Written aside and renamed into place: a run beside this one reads a whole dump.
    const partial = `${DUMP}.${process.pid}`;
    await writeFile(partial, await dumpOf(BUILT_TEMPLATE));
    await rename(partial, DUMP);
    await writeFile(stampOfDump, stamp);
  }
  // Workers are started after this and inherit the variable.
  process.env[VARIABLE] = DUMP;
}

/** A dump of the store in `dir`, uncompressed (25 MB), as PGlite loads one. */
async function dumpOf(dir: string): Promise<Uint8Array> {
  // PGlite writes to the directory it opens: it opens a copy.
  const scratch = await mkdtemp(join(tmpdir(), "keyward-pglite-template-"));
  try {
    const dataDir = join(scratch, "data");
    if (!copyPgliteTemplate(dir, dataDir)) throw new Error(`no PGlite template in ${dir}: the build did not make one`);
    const pglite = await PGlite.create({ dataDir });
    try {
      return new Uint8Array(await (await pglite.dumpDataDir("none")).arrayBuffer());
    } finally {
      await pglite.close();
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

let template: Promise<Blob | undefined> | undefined;

/** The run's template, read once per worker; undefined outside a vitest run with the globalSetup. */
export function pgliteTemplate(): Promise<Blob | undefined> {
  const path = process.env[VARIABLE];
  template ??= path === undefined ? Promise.resolve(undefined) : readFile(path).then((bytes) => new Blob([bytes]));
  return template;
}
