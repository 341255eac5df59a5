// A new embedded store starts from a store already initialised and migrated,
// made once by `npm run build` (scripts/build.mjs) and kept beside the
// compiled code, instead of running PostgreSQL's initdb in WebAssembly at the
// first start (seconds of CPU): a data directory, dist/pglite-template/,
// written by pglite-template-writer.ts, that a new on-disk store is copied
// from file by file (a plain copy: loading a dump through PGlite's
// WebAssembly file system cost most of a fresh start). A start loads only
// this module. The tests' stores start from the same directory
// (test/support/pglite-template.ts), which their globalSetup rebuilds when
// its sources are newer.
// The server uses it only when it runs from dist/, so a run from source
// (tsx) never starts from one made of another revision's migrations;
// migrateToLatest still runs after the copy, as at every start.
import { chmodSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { installRoot } from "../install-root.js";

const DIST = join(installRoot(), "dist");
/** dist/pglite-template/, used only by the compiled server: this code runs from dist/ (keyward.mjs or dist/src/). */
const TEMPLATE_DIR = fileURLToPath(import.meta.url).startsWith(DIST + sep) ? join(DIST, "pglite-template") : undefined;

/** The file PostgreSQL reads first: copied last, so a copy cut short is copied again at the next start. */
const MARKER = "PG_VERSION";

/** Copies the tree at `from` into `to`, owner-only, leaving out the marker at the top (`top`). */
function copyPrivately(from: string, to: string, top: string): void {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) copyPrivately(source, target, top);
    else if (entry.name !== MARKER || from !== top) copyFilePrivately(source, target);
  }
}

/** One file, owner-only; a copy-on-write clone where the file system can make one. */
function copyFilePrivately(source: string, target: string): void {
  copyFileSync(source, target, constants.COPYFILE_FICLONE);
  chmodSync(target, 0o600);
}

/**
 * Fills a data directory that holds no cluster yet with the build's template,
 * every file 0600 and directory 0700; false when there is no template (a run
 * from source), and PGlite runs initdb instead.
 */
export function copyBuiltPgliteTemplate(dataDir: string): boolean {
  return TEMPLATE_DIR !== undefined && copyPgliteTemplate(TEMPLATE_DIR, dataDir);
}

/** Fills `dataDir` from the template directory `templateDir` (as above); false when that holds no template. */
export function copyPgliteTemplate(templateDir: string, dataDir: string): boolean {
  if (!existsSync(join(templateDir, MARKER))) return false;
  copyPrivately(templateDir, dataDir, templateDir);
  copyFilePrivately(join(templateDir, MARKER), join(dataDir, MARKER));
  return true;
}
