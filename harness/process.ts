// Keyward as a real process, started the way an operator starts it and ready
// once it prints where it listens: for the tests of what happens around the
// server (start-up checks, the data directory, several processes at once,
// draining) and for the benches, which measure it from outside.
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { createInterface } from "node:readline";

export interface KeywardProcess {
  child: ChildProcess;
  /** stdout and stderr lines (stdout only with `stderr: "inherit"`), in arrival order. */
  lines: string[];
  /** Resolves once the process has exited and its output is read: with its exit code, or the signal that ended it. */
  exited: Promise<number | NodeJS.Signals>;
  output(): string;
  /** Emits "line" for each line as it is added to `lines`. */
  events: EventEmitter;
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
  /**
   * `node --import tsx src/main.ts` instead of the build `npm start` runs
   * (`node dist/keyward.mjs`, which the caller must have built: the tests'
   * globalSetup does). From source, a new embedded store has no template to
   * copy, so PGlite runs initdb and every migration.
   */
  source?: boolean;
  /** Node flags and preloads before the entry point (the memory bench's GC hook). */
  nodeArgs?: string[];
  /** "inherit": stderr goes to this process's (a bench's operator sees it live) instead of into `lines`. */
  stderr?: "lines" | "inherit";
}

/**
 * Starts `node dist/keyward.mjs` (or as `options` say) on a free port
 * with `env` over this process's environment and a quiet, embedded-PGlite
 * default: a caller that wants the store or bootstrap key file its own
 * environment names passes them in `env`.
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
  const node = [process.execPath, ...(options.source ? ["--import", "tsx"] : []), ...(options.nodeArgs ?? []), options.source ? "src/main.ts" : "dist/keyward.mjs"];
  const stdio: ["ignore", "pipe", "pipe" | "inherit"] = ["ignore", "pipe", options.stderr === "inherit" ? "inherit" : "pipe"];
  const child = options.command
    ? spawn(options.command[0]!, options.command.slice(1), { env: fullEnv, stdio, cwd: options.cwd, detached: true })
    : options.umask === undefined
      ? spawn(node[0]!, node.slice(1), { env: fullEnv, stdio })
      : spawn("sh", ["-c", `umask ${options.umask}; exec "$@"`, "sh", ...node], { env: fullEnv, stdio });
  running.push({ child, group: options.command !== undefined });
  const lines: string[] = [];
  const events = new EventEmitter();
  // Every line is read: an unread pipe would stall the server's logging.
  const add = (line: string) => {
    lines.push(line);
    events.emit("line", line);
  };
  createInterface({ input: child.stdout! }).on("line", add);
  if (child.stderr) createInterface({ input: child.stderr }).on("line", add);
  // "close" comes after stdio has ended, so every line is in `lines` by then.
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once("close", (code, signal) => resolve(code ?? signal!)));
  return { child, lines, exited, output: () => lines.join("\n"), events };
}

/**
 * Resolves with the first line matching `pattern`, as soon as it arrives;
 * rejects if the process exits first or `timeoutMs` passes.
 */
export function lineMatching(started: KeywardProcess, pattern: RegExp, timeoutMs = 5_000): Promise<string> {
  const found = started.lines.find((l) => pattern.test(l));
  if (found !== undefined) return Promise.resolve(found);
  return new Promise<string>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      started.events.off("line", onLine);
    };
    const onLine = (line: string) => {
      if (!pattern.test(line)) return;
      done();
      resolve(line);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${started.output()}`));
    }, timeoutMs);
    started.events.on("line", onLine);
    void started.exited.then((code) => {
      done();
      reject(new Error(`keyward exited with ${code} before a line matching ${pattern}:\n${started.output()}`));
    });
  });
}

/** Resolves with the URL from the "listening" line; rejects if the process exits first. */
export async function listening(started: KeywardProcess, timeoutMs = 60_000): Promise<string> {
  return /listening on (http:\/\/\S+)/.exec(await lineMatching(started, /listening on http:\/\/\S+/, timeoutMs))![1]!;
}

export interface ListeningProcess extends KeywardProcess {
  /** http://host:port */
  url: string;
  /** host:port, for grpc-js */
  target: string;
  port: number;
  /** SIGTERM, and waits for the drain to finish. */
  stop(): Promise<void>;
}

/** spawnKeyward, then waits for it to listen. */
export async function startKeywardProcess(env: Record<string, string>, options: SpawnOptions = {}): Promise<ListeningProcess> {
  const started = spawnKeyward(env, options);
  const url = await listening(started);
  return {
    ...started,
    url,
    target: url.replace("http://", ""),
    port: Number(new URL(url).port),
    stop: async () => {
      started.child.kill("SIGTERM");
      await started.exited;
    },
  };
}
