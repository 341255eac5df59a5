// The embedded store's files are readable and writable by Keyward's user
// only, whatever the umask: the data directory and every directory in it
// 0700, every file 0600. A data directory that others can write is refused.
import { chmod, lstat, mkdir, mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killAll, lineMatching, listening, spawnKeyward } from "../../harness/process.js";

afterEach(killAll);

/** Every path under `dir` (and `dir` itself) with its permission bits, as `path 0644`. */
async function modes(dir: string): Promise<string[]> {
  const found = [`${dir} ${((await lstat(dir)).mode & 0o777).toString(8)}`];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await modes(path)));
    else found.push(`${path} ${((await lstat(path)).mode & 0o777).toString(8)}`);
  }
  return found;
}

const looseIn = (listing: string[]) => listing.filter((line) => !/ (700|600)$/.test(line));

describe("the data directory's file modes", { timeout: 120_000 }, () => {
  it("are 0700 for directories and 0600 for files under umask 000, after a start that wrote the schema and the bootstrap key", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "keyward-modes-")), "data");
    // From source: no template to copy, so every file is one PGlite's initdb wrote.
    const first = spawnKeyward({ KEYWARD_DATA_DIR: dataDir }, { umask: "000", source: true });
    const url = await listening(first);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    const listing = await modes(dataDir);
    expect(listing.length).toBeGreaterThan(100);
    expect(looseIn(listing)).toEqual([]);
    expect(listing[0]).toBe(`${dataDir} 700`);
  });

  it("tightens the modes a directory written by an older Keyward has, and says so", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "keyward-modes-")), "data");
    const first = spawnKeyward({ KEYWARD_DATA_DIR: dataDir });
    await listening(first);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    // What Keyward before this fix left behind: files 0666, directories 0755.
    for (const line of await modes(dataDir)) {
      const [path, mode] = line.split(" ");
      await chmod(path!, mode === "700" ? 0o755 : 0o666);
    }

    const second = spawnKeyward({ KEYWARD_DATA_DIR: dataDir });
    await listening(second);
    const warning = JSON.parse(await lineMatching(second, /tightened the permissions/)) as Record<string, unknown>;
    expect(warning).toMatchObject({ level: 40, dataDir });
    expect(warning.entries).toBeGreaterThan(100);
    expect(looseIn(await modes(dataDir))).toEqual([]);
  });

  it("refuses a data directory that other users can write, saying how to fix it", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), "keyward-modes-")), "data");
    await mkdir(dataDir);
    await chmod(dataDir, 0o777);
    const started = spawnKeyward({ KEYWARD_DATA_DIR: dataDir });
    expect(await started.exited).not.toBe(0);
    expect(started.output()).toContain(dataDir);
    expect(started.output()).toMatch(/writable by other users/);
    expect(started.output()).toMatch(/chmod/);
    expect(started.output()).not.toMatch(/Keyward listening on/);
  });
});
