// vitest globalSetup: the build, made before any worker starts when missing
// or older than its sources (scripts/build.mjs --if-stale):
// - the server as `npm start` runs it (dist/keyward.mjs and its PGlite
//   template) and the compiled CLI, which the process-level suites and the
//   CLI's run, as operators and scripts do; a start from the build copies a
//   migrated store instead of running initdb in WebAssembly;
// - the dashboard (web/dist), which the browser suites load. Built here, once:
//   two workers building it at the same moment would write one folder twice.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  execFileSync(process.execPath, ["scripts/build.mjs", "--if-stale"], { cwd: root, stdio: "inherit" });
}
