// The folder Keyward is installed in, the one holding its package.json. Found
// from this module's own location, which is src/ when run from source (tests,
// tsx) and dist/src/ when compiled, so files kept beside the code (the
// dashboard's build in web/dist) are found the same way from both.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function installRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in ${start} or any folder above it`);
  }
}
