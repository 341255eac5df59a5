// The embedded store's files hold every key's hash, policy and audit event:
// they are for Keyward's user only. PGlite (Emscripten's NODEFS) creates files
// 0666 and directories 0777 less the umask, so under a permissive umask they
// were world-writable. Here: the process umask drops group and other bits
// before PGlite opens (it keeps creating files — WAL, relations — for as long
// as it runs), and what is already there is tightened to 0700/0600.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** The data directory exists and others may write to it: its contents cannot be trusted. */
export class DataDirPermissionsError extends Error {
  constructor(readonly dataDir: string, mode: number) {
    super(
      `the data directory ${dataDir} is writable by other users (mode ${mode.toString(8).padStart(4, "0")}), ` +
        `so its data may have been changed by someone else. Check it, then run: chmod -R go-rwx ${dataDir}`,
    );
    this.name = "DataDirPermissionsError";
  }
}

/**
 * Creates `dataDir` 0700 if absent, refuses it if group or others can write
 * to it, and makes everything in it 0700 (directories) or 0600 (files).
 * Returns how many entries had group or other bits, for a warning. Sets the
 * process umask to keep group and other bits off every file created from
 * now on (Keyward itself writes no file others should read).
 */
export function secureDataDir(dataDir: string): { tightened: number } {
  process.umask(process.umask() | 0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = lstatSync(dataDir).mode & 0o777;
  if (mode & 0o022) throw new DataDirPermissionsError(dataDir, mode);
  return { tightened: tighten(dataDir) };
}

function tighten(path: string): number {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return 0; // chmod would follow it out of the directory
  let loose = 0;
  if (stat.mode & 0o077) {
    chmodSync(path, stat.isDirectory() ? 0o700 : 0o600);
    loose++;
  }
  if (stat.isDirectory()) for (const name of readdirSync(path)) loose += tighten(join(path, name));
  return loose;
}
