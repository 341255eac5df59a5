// Keyward installed the way the README says, in a copy of the repository:
// `npm ci && npm start` on a clean clone builds dist/ and web/dist and runs the
// compiled server; then the devDependencies are pruned (what `npm prune
// --omit=dev` or `npm ci --omit=dev` leaves) and `npm start` and `npm run
// recover` must still work, so nothing at run time needs tsx, vite, a
// TypeScript compiler or the protos' npm packages. Last, the files the
// container image's final stage copies (docs/deploy/Containerfile) must be
// enough for its command.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killAll, listening, spawnKeyward, type KeywardProcess } from "../../harness/process.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const devDependencies = ["typescript", "tsx", "vite", "google-proto-files", "@bufbuild/buf", "vitest"];

let app: string;
/** Beside the copy, not in it: Node would otherwise find the copy's node_modules above it. */
let image: string;

/** The repository's files as a clone would have them: tracked and new ones, nothing ignored, no node_modules. */
function copyRepository(to: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repo, encoding: "utf8" })
    .split("\0")
    .filter((f) => f !== "" && f !== "node_modules" && existsSync(join(repo, f)));
  for (const file of files) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(join(repo, file), join(to, file));
  }
}

/**
 * node_modules as `npm ci --omit=dev` lays it out, from the lockfile's
 * non-dev entries, copied from the full install (a copy, not a link: Node
 * would resolve a linked package's own imports beside its real path, where
 * the devDependencies are).
 */
function installProductionDependencies(root: string): void {
  const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean; link?: boolean }>;
  };
  const installed = realpathSync(join(repo, "node_modules"));
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "" || entry.dev || entry.link) continue;
    const from = join(installed, path.slice("node_modules/".length));
    if (!existsSync(from)) continue; // an optional package for another platform
    // Nested node_modules are entries of their own, dev ones left out.
    cpSync(from, join(root, path), { recursive: true, filter: (src) => src !== join(from, "node_modules") });
  }
}

/** The final stage's `COPY --from=build` sources (under /app) and its CMD, from the Containerfile. */
function containerRuntime(): { files: string[]; command: string[] } {
  const text = readFileSync(join(repo, "docs/deploy/Containerfile"), "utf8");
  const files = [...text.matchAll(/^COPY --from=build (.+) \S+$/gm)].flatMap((m) => m[1]!.split(" ").map((f) => f.replace(/^\/app\//, "")));
  const command = JSON.parse(/^CMD (\[.*\])$/m.exec(text)![1]!) as string[];
  return { files, command };
}

const bootstrapKeyIn = (started: KeywardProcess) =>
  started.lines.map((l) => /(?:bootstrap|recovered) admin key.*: (kw_\S+)$/.exec(l)?.[1]).find(Boolean);

/**
 * The environment of a machine with Node and nothing else: npx put the
 * repository's node_modules/.bin on PATH, where the devDependencies' commands
 * (tsx, tsc, vite) would be found from any copy.
 */
const bare = {
  PATH: (process.env.PATH ?? "").split(":").filter((dir) => !dir.includes("node_modules")).join(":"),
  NODE_OPTIONS: "",
  NODE_PATH: "",
};

/** `npm <args>` in the copy, on the embedded store in `dataDir`. */
function npm(args: string[], dataDir: string): KeywardProcess {
  return spawnKeyward({ ...bare, KEYWARD_DATA_DIR: join(app, dataDir) }, { command: ["npm", ...args], cwd: app });
}

/**
 * SIGTERM to the server, as a supervisor sends it, and npm exits with the
 * server's code. (npm itself dies of a SIGTERM or SIGINT without waiting for
 * it, which is why the recipes in docs/deploy run node directly.)
 */
async function stop(started: KeywardProcess): Promise<void> {
  // npm runs the script through sh: the server is a grandchild, in npm's process group.
  const server = execFileSync("pgrep", ["-g", String(started.child.pid), "-f", "^node dist/keyward\\.mjs"], { encoding: "utf8" }).trim();
  expect(server).toMatch(/^\d+$/);
  process.kill(Number(server), "SIGTERM");
  expect(await started.exited).toBe(0);
}

/** Checks that a started server is healthy, serves the dashboard and honours its admin key. */
async function expectServing(url: string, adminKey: string): Promise<void> {
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  const dashboard = await fetch(`${url}/`, { headers: { accept: "text/html" } });
  expect(dashboard.status).toBe(200);
  expect(dashboard.headers.get("content-type")).toMatch(/^text\/html/);
  const keys = await fetch(`${url}/api/v1/api_keys`, { headers: { authorization: `Bearer ${adminKey}` } });
  expect(keys.status).toBe(200);
  expect((await fetch(`${url}/api/v1/api_keys`)).status).toBe(401);
}

describe("a production install", () => {
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), "keyward-install-"));
    image = mkdtempSync(join(tmpdir(), "keyward-image-"));
    copyRepository(app);
  });
  afterEach(killAll);
  afterAll(() => {
    for (const dir of [app, image]) rmSync(dir, { recursive: true, force: true });
  });

  it("npm start on a clean clone builds dist/ and web/dist, then runs the compiled server", { timeout: 180_000 }, async () => {
    symlinkSync(join(repo, "node_modules"), join(app, "node_modules"));
    expect(existsSync(join(app, "dist"))).toBe(false);
    const started = npm(["start"], "quick-start");
    const url = await listening(started, 150_000);
    expect(started.output()).toContain("Building the server");
    expect(started.output()).toContain("Building the dashboard");
    expect(started.output()).toContain("node dist/keyward.mjs");
    const key = bootstrapKeyIn(started);
    expect(key).toMatch(/^kw_/);
    await expectServing(url, key!);
    await stop(started);
    // The fresh store came from the build's template (not initdb), and is as private as one initdb makes.
    expect(existsSync(join(app, "dist/pglite-template/PG_VERSION"))).toBe(true);
    const dataDir = join(app, "quick-start");
    const entries = readdirSync(dataDir, { recursive: true, withFileTypes: true });
    expect(entries.length).toBeGreaterThan(100);
    for (const entry of entries) {
      const path = join(entry.parentPath, entry.name);
      expect(statSync(path).mode & 0o077, path).toBe(0);
    }
  });

  it("npm start and npm run recover run the build with devDependencies pruned", { timeout: 120_000 }, async () => {
    expect(existsSync(join(app, "dist/keyward.mjs"))).toBe(true);
    rmSync(join(app, "node_modules"));
    installProductionDependencies(app);
    for (const name of devDependencies) expect(existsSync(join(app, "node_modules", name)), name).toBe(false);
    expect(existsSync(join(app, "node_modules/argon2"))).toBe(true);

    const started = npm(["start"], "production");
    const url = await listening(started, 100_000);
    // Fresh: nothing was rebuilt, and nothing warned about a build older than its sources.
    expect(started.output()).not.toMatch(/Building|looks older/);
    const key = bootstrapKeyIn(started);
    expect(key).toMatch(/^kw_/);
    await expectServing(url, key!);
    await stop(started);

    const recovered = npm(["run", "recover"], "production");
    expect(await recovered.exited, recovered.output()).toBe(0);
    const recoveredKey = bootstrapKeyIn(recovered);
    expect(recoveredKey).toMatch(/^kw_/);
    expect(recoveredKey).not.toBe(key);
  });

  it("the container image's files are enough for its command", { timeout: 120_000 }, async () => {
    const { files, command } = containerRuntime();
    expect(files).toEqual(expect.arrayContaining(["node_modules", "dist", "web/dist"]));
    expect(command).toEqual(["node", "dist/keyward.mjs"]);
    for (const file of files) cpSync(join(app, file), join(image, file), { recursive: true });

    const started = spawnKeyward({ ...bare, KEYWARD_DATA_DIR: join(image, "data"), KEYWARD_HOST: "0.0.0.0" }, { command, cwd: image });
    const url = await listening(started, 100_000);
    const key = bootstrapKeyIn(started);
    expect(key).toMatch(/^kw_/);
    await expectServing(url.replace("0.0.0.0", "127.0.0.1"), key!);
    await stop(started);
  });
});
