// One process per embedded store. PGlite is an in-process database: two
// processes on one data directory each cache pages and write WAL of their own,
// drift apart and lose writes. So whatever opens the directory first holds a
// lock file in it, and every other opener is refused with who holds it.
//
// The lock is `keyward.lock`, created complete and atomically (written to a
// private file, then link()ed into place, which fails if the name exists):
// no reader ever sees a half-written lock. It records the holder's pid, host,
// boot id and process start time, so a lock left by `kill -9` or a crash is
// recognised as stale — even when the pid has since been reused by another
// process or the machine has rebooted — and taken over. Takeovers are
// serialised by a second link()ed file, so two starters that both find the
// same stale lock cannot both take it. (Only if a starter dies inside that
// guard's few lines, and two more then break the guard at the same moment,
// could both pass: a window of microseconds after a crash in microseconds.)
//
// Why not proper-lockfile: it judges staleness by the lock's age, refreshed
// by a timer, so a holder whose event loop stalls past the threshold loses
// the lock while still running, and a restart after `kill -9` must wait out
// the threshold; it also does not say which process holds the lock.
import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export const LOCK_FILE = "keyward.lock";

export interface LockHolder {
  pid: number;
  host: string;
  /** Linux: /proc/sys/kernel/random/boot_id; changes at every boot. */
  bootId: string | null;
  /** Linux: the process's start time in clock ticks since boot (/proc/<pid>/stat). */
  processStart: string | null;
  startedAt: string;
  /** Tells this acquisition from any other, even by the same pid. */
  nonce: string;
}

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder | null,
  ) {
    const who = holder
      ? `Keyward process pid ${holder.pid} on host ${holder.host} (started ${holder.startedAt})`
      : `another process (its lock file ${join(dataDir, LOCK_FILE)} cannot be read; if no Keyward runs on this directory, delete it)`;
    super(
      `the data directory ${dataDir} is in use by ${who}. The embedded store serves one process only: ` +
        `stop that process first, or run several replicas on PostgreSQL (set DATABASE_URL).` +
        (holder && holder.host !== hostname()
          ? ` If host ${holder.host} no longer runs Keyward on this directory, delete ${join(dataDir, LOCK_FILE)}.`
          : ""),
    );
    this.name = "DataDirLockedError";
  }
}

export interface DataDirLock {
  readonly dataDir: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

function readFirstLine(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

const bootId = (): string | null => readFirstLine("/proc/sys/kernel/random/boot_id");

/** Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
function processStart(pid: number): string | null {
  const stat = readFirstLine(`/proc/${pid}/stat`);
  if (stat === null) return null;
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
}

function readHolder(path: string): LockHolder | null | "missing" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw error;
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid !== "number" || typeof h.host !== "string" || typeof h.nonce !== "string") return null;
    return { pid: h.pid, host: h.host, bootId: h.bootId ?? null, processStart: h.processStart ?? null, startedAt: String(h.startedAt), nonce: h.nonce };
  } catch {
    return null;
  }
}

// Nonces of the locks this process holds: a lock naming our own pid that is
// not among them was left by an earlier process that had our pid (a
// container restarted as pid 1, say).
const heldHere = new Set<string>();

/** Whether the process that wrote `holder` has certainly gone. Unknown hosts are presumed alive. */
function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  const boot = bootId();
  if (holder.bootId !== null && boot !== null && holder.bootId !== boot) return true;
  if (holder.pid === process.pid) return !heldHere.has(holder.nonce);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: alive, owned by another user.
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  // That pid is alive, but is it the same process? Its start time says.
  const start = processStart(holder.pid);
  return holder.processStart !== null && start !== null && start !== holder.processStart;
}

/** link() `from` to `to`; false if `to` exists. */
function linkExclusive(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/**
 * Takes `dataDir` (which must exist) for this process, or throws
 * DataDirLockedError naming the live holder. Synchronous on purpose: nothing
 * else in this process can run between the checks and the link.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const lockPath = join(dataDir, LOCK_FILE);
  const guardPath = `${lockPath}.takeover`;
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    bootId: bootId(),
    processStart: processStart(process.pid),
    startedAt: new Date().toISOString(),
    nonce: randomBytes(12).toString("hex"),
  };
  const draft = `${lockPath}.${me.nonce}`;
  writeFileSync(draft, `${JSON.stringify(me)}\n`, { mode: 0o600, flag: "wx" });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (linkExclusive(draft, lockPath)) {
        heldHere.add(me.nonce);
        let released = false;
        return {
          dataDir,
          release() {
            if (released) return;
            released = true;
            heldHere.delete(me.nonce);
            const current = readHolder(lockPath);
            if (current !== "missing" && current?.nonce === me.nonce) unlinkQuietly(lockPath);
          },
        };
      }
      const holder = readHolder(lockPath);
      if (holder === "missing") continue; // released between our link and our read: try again
      if (holder === null || !isStale(holder)) throw new DataDirLockedError(dataDir, holder);
      takeOverStale(lockPath, guardPath, draft, holder);
    }
    throw new DataDirLockedError(dataDir, null);
  } finally {
    unlinkQuietly(draft);
  }
}

/**
 * Removes the stale lock `stale` — only it — under the takeover guard. A
 * starter that finds the guard taken lets its holder finish; a guard whose
 * writer has gone (a crash within these few lines) is itself stale.
 */
function takeOverStale(lockPath: string, guardPath: string, draft: string, stale: LockHolder): void {
  if (!linkExclusive(draft, guardPath)) {
    const guard = readHolder(guardPath);
    if (guard !== "missing" && guard !== null && isStale(guard)) unlinkQuietly(guardPath);
    return; // the caller tries again, and finds the lock taken over, or still stale
  }
  try {
    const current = readHolder(lockPath);
    if (current !== "missing" && current?.nonce === stale.nonce) unlinkSync(lockPath);
  } finally {
    unlinkQuietly(guardPath);
  }
}
