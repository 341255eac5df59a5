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

const running: ChildProcess[] = [];

/** SIGKILLs every process still running (call from afterEach). */
export function killAll(): void {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

/**
 * Starts `node --import tsx src/main.ts` with `env` over a quiet, PGlite
 * default; `umask` runs it through `sh -c 'umask …; exec node …'`.
 */
export function spawnKeyward(env: Record<string, string>, options: { umask?: string } = {}): KeywardProcess {
  const fullEnv = {
    ...process.env,
    KEYWARD_PORT: "0",
    DATABASE_URL: "",
    KEYWARD_BOOTSTRAP_KEY_FILE: "",
    LOG_LEVEL: "warn",
    ...env,
  };
  const node = [process.execPath, "--import", "tsx", "src/main.ts"];
  const child =
    options.umask === undefined
      ? spawn(node[0]!, node.slice(1), { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] })
      : spawn("sh", ["-c", `umask ${options.umask}; exec "$@"`, "sh", ...node], { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
  running.push(child);
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
