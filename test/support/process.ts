// `npm start` as a real process, for tests of what happens around the server:
// start-up checks, the data directory, several processes at once.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface KeywardProcess {
  child: ChildProcess;
  /** stdout and stderr lines, in arrival order. */
  lines: string[];
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  output(): string;
}

/** `group`: the child leads a process group of its own, killed whole. */
const running: { child: ChildProcess; group: boolean }[] = [];

/** SIGKILLs every process still running, with whatever it started (call from afterEach). */
export function killAll(): void {
  for (const { child, group } of running.splice(0)) {
    // `npm start` would die alone and leave its node child running.
    if (group) signalGroup(child, "SIGKILL");
    else if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** Signals the process group `child` leads (spawned with `command`), if any of it is left. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

export interface SpawnOptions {
  /** Runs it through `sh -c 'umask …; exec node …'`. */
  umask?: string;
  /** Another command instead (`["npm", "start"]`), run in `cwd` as the leader of a new process group. */
  command?: string[];
  cwd?: string;
}

/**
 * Starts `node --import tsx src/main.ts` (or `options.command`) with `env`
 * over a quiet, PGlite default.
 */
export function spawnKeyward(env: Record<string, string>, options: SpawnOptions = {}): KeywardProcess {
  const fullEnv = {
    ...process.env,
    KEYWARD_PORT: "0",
    DATABASE_URL: "",
    KEYWARD_BOOTSTRAP_KEY_FILE: "",
    LOG_LEVEL: "warn",
    ...env,
  };
  const node = [process.execPath, "--import", "tsx", "src/main.ts"];
  const stdio: ["ignore", "pipe", "pipe"] = ["ignore", "pipe", "pipe"];
  const child = options.command
    ? spawn(options.command[0]!, options.command.slice(1), { env: fullEnv, stdio, cwd: options.cwd, detached: true })
    : options.umask === undefined
      ? spawn(node[0]!, node.slice(1), { env: fullEnv, stdio })
      : spawn("sh", ["-c", `umask ${options.umask}; exec "$@"`, "sh", ...node], { env: fullEnv, stdio });
  running.push({ child, group: options.command !== undefined });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on("line", (line) => lines.push(line));
  // "close" comes after stdio has ended, so every line is in `lines` by then.
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, lines, exited, output: () => lines.join("\n") };
}

/** Resolves with the URL from the "listening" line; rejects if the process exits first. */
export async function listening(started: KeywardProcess, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void started.exited.then(() => (exited = true));
  for (;;) {
    for (const line of started.lines) {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) return m[1]!;
    }
    if (exited) throw new Error(`keyward exited with ${started.child.exitCode} before listening:\n${started.output()}`);
    if (Date.now() > deadline) throw new Error(`keyward did not listen within ${timeoutMs} ms:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once a line matches `pattern` (log lines reach stdout within about a second). */
export async function lineMatching(started: KeywardProcess, pattern: RegExp, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = started.lines.find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
