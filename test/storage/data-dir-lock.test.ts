// The data directory lock judges a lock file left behind: its process alive
// (refuse, naming it), gone, replaced by another process with the same pid,
// from before a reboot (take over), or on another host (refuse: cannot tell).
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataDirLockedError, LOCK_FILE, lockDataDir, type DataDirLock } from "../../src/storage/data-dir-lock.js";

const held: DataDirLock[] = [];
const sleepers: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const lock of held.splice(0)) lock.release();
  for (const child of sleepers.splice(0)) child.kill("SIGKILL");
});

const linux = existsSync("/proc/self/stat");
const bootId = linux ? readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() : null;
const startOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
};

async function dirWithLock(fields: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "keyward-lock-"));
  const lock = { host: hostname(), bootId, processStart: null, startedAt: "2026-01-01T00:00:00.000Z", nonce: "old", ...fields };
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(lock));
  return dir;
}

/** A live process that is not Keyward. */
function sleeper(): number {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  sleepers.push(child);
  return child.pid!;
}

const take = (dir: string) => {
  const lock = lockDataDir(dir);
  held.push(lock);
  return lock;
};

describe("the data directory lock", () => {
  it("is refused to a second opener, also in the same process, and free again after release", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyward-lock-"));
    const first = take(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(`pid ${process.pid}`);
    first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    take(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8"))).toMatchObject({ pid: process.pid, host: hostname() });
  });

  it.skipIf(!linux)("refuses while the recorded process is alive, and names it", async () => {
    const pid = sleeper();
    const dir = await dirWithLock({ pid, processStart: startOf(pid) });
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`pid ${pid} on host ${hostname()}.*DATABASE_URL`));
  });

  it("takes over a lock whose process has gone", async () => {
    const child = spawn("true");
    await new Promise((resolve) => child.once("exit", resolve));
    const dir = await dirWithLock({ pid: child.pid });
    take(dir);
  });

  it.skipIf(!linux)("takes over a lock whose pid now belongs to another process", async () => {
    const pid = sleeper();
    const dir = await dirWithLock({ pid, processStart: "1" });
    take(dir);
  });

  it.skipIf(!linux)("takes over a lock written before the last reboot", async () => {
    const pid = sleeper();
    const dir = await dirWithLock({ pid, processStart: startOf(pid), bootId: "00000000-0000-0000-0000-000000000000" });
    take(dir);
  });

  it("takes over a lock naming this process's pid that this process does not hold (a restarted container's pid 1)", async () => {
    const dir = await dirWithLock({ pid: process.pid, processStart: null });
    take(dir);
  });

  it("refuses a lock from another host, saying which, since it cannot tell whether that process lives", async () => {
    const dir = await dirWithLock({ pid: 1234, host: "other-host" });
    expect(() => lockDataDir(dir)).toThrow(/pid 1234 on host other-host.*delete/);
  });

  it("refuses, without overwriting, a lock it cannot read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyward-lock-"));
    writeFileSync(join(dir, LOCK_FILE), "not json");
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toBe("not json");
  });
});
