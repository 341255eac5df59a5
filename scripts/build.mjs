// `npm run build`: compiles the server (src/ and gen/ → dist/, tsc, plus the
// migrated PGlite store a new embedded store starts from) and builds
// the dashboard (web/ → web/dist, Vite). `npm start` and `npm run recover` run
// it with --if-stale first, so a fresh clone needs nothing but `npm ci && npm
// start`, while a start with an up-to-date build only compares file times:
// the compilers are devDependencies, and a production install (`npm ci
// --omit=dev` or `npm prune --omit=dev` after a build) has none of them.
// Naming a target (`server`, `web`) builds only that one: the dashboard's
// browser tests need no compiled server.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const ifStale = args.includes("--if-stale");
const only = args.filter((a) => !a.startsWith("--"));

const targets = [
  {
    id: "server",
    name: "the server (src/, gen/ → dist/, bundled into dist/keyward.mjs)",
    // Written last, so an interrupted build stays stale.
    stamp: "dist/.built",
    sources: ["src", "gen", "tsconfig.json", "tsconfig.build.json", "package.json"],
    tool: "node_modules/typescript/bin/tsc",
    build: async (tool) => {
      // Emptied first, so a deleted source file leaves no module behind.
      rmSync(join(root, "dist"), { recursive: true, force: true });
      execFileSync(process.execPath, [tool, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
      await bundleServer();
      // A migrated store to start new embedded stores from (src/storage/pglite-template.ts), made by the code just compiled.
      execFileSync(
        process.execPath,
        ["--input-type=module", "-e", 'import { writePgliteTemplateDir } from "./dist/src/storage/pglite-template-writer.js"; await writePgliteTemplateDir("dist/pglite-template");'],
        { cwd: root, stdio: "inherit" },
      );
      writeFileSync(join(root, "dist/.built"), `${new Date().toISOString()}\n`);
    },
  },
  {
    id: "web",
    name: "the dashboard (web/ → web/dist)",
    // Vite empties web/dist and writes index.html last.
    stamp: "web/dist/index.html",
    // package-lock.json: a new Preact or connect-web changes the bundle.
    sources: ["web/src", "web/index.html", "web/vite.config.ts", "gen", "src/domain/event-types.ts", "package-lock.json"],
    tool: "node_modules/vite/bin/vite.js",
    build: (tool) =>
      execFileSync(process.execPath, [tool, "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], { cwd: root, stdio: "inherit" }),
  },
];

/**
 * The server as one module (dist/keyward.mjs, what `npm start` runs): Node 20
 * has no compile cache, and resolving, reading and linking ~190 modules one by
 * one was most of a start on PostgreSQL (bench/start.ts). Left outside: argon2
 * (a native addon), PGlite (it finds its WebAssembly beside its own files) and
 * OpenTelemetry (loaded only when tracing is on). The CLI and `npm run
 * recover` run the modules tsc wrote (dist/src/), whose start time matters less.
 */
async function bundleServer() {
  const { build } = await import("esbuild");
  await build({
    entryPoints: { keyward: join(root, "dist/src/main.js") },
    outdir: join(root, "dist"),
    outExtension: { ".js": ".mjs" },
    // What the server imports only when needed (the store drivers, the OpenAPI
    // document) stays in chunks of its own, loaded only then.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["argon2", "@electric-sql/pglite", "@electric-sql/pglite/*", "@opentelemetry/*", "pg-native"],
    // The CommonJS packages in the bundle (pg, pino, prom-client) require Node's own modules.
    banner: { js: 'import { createRequire as keywardCreateRequire } from "node:module"; const require = keywardCreateRequire(import.meta.url);' },
    logLevel: "warning",
  });
}

/** The newest modification time under `path` (0 when it does not exist). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

const unknown = only.filter((id) => !targets.some((t) => t.id === id));
if (unknown.length) {
  process.stderr.write(`build: unknown target ${unknown.join(", ")} (known: ${targets.map((t) => t.id).join(", ")})\n`);
  process.exit(2);
}

for (const target of targets.filter((t) => only.length === 0 || only.includes(t.id))) {
  const stamp = join(root, target.stamp);
  const built = existsSync(stamp);
  if (ifStale && built && Math.max(...target.sources.map((s) => newest(join(root, s)))) <= statSync(stamp).mtimeMs) continue;
  const tool = join(root, target.tool);
  if (!existsSync(tool)) {
    // Without devDependencies file times prove little (a copy, a container
    // layer or `npm prune` can touch a source after the build): run what was built.
    if (ifStale && built) {
      process.stderr.write(`keyward: ${target.name} looks older than its sources, and ${target.tool} is not installed to rebuild it; starting the existing build\n`);
      continue;
    }
    process.stderr.write(`keyward: cannot build ${target.name}: ${target.tool} is not installed. Build with devDependencies (npm ci && npm run build) before pruning them.\n`);
    process.exit(1);
  }
  process.stdout.write(`Building ${target.name}…\n`);
  await target.build(tool);
}
