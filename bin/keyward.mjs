#!/usr/bin/env node
// The `keyward` admin CLI (src/cli/main.ts). Runs the compiled CLI when the
// build has made one, and otherwise the TypeScript through tsx (a development
// checkout, where tsx is installed).
import { existsSync } from "node:fs";

const compiled = new URL("../dist/src/cli/main.js", import.meta.url);
let main;
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  let register;
  try {
    ({ register } = await import("tsx/esm/api"));
  } catch {
    process.stderr.write("keyward: the CLI is not built (no dist/src/cli/main.js) and tsx is not installed to run its sources: run `npm run build`\n");
    process.exit(10);
  }
  register();
  ({ main } = await import(new URL("../src/cli/main.ts", import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
