// Keyward as a bench measures it: its own process, started the way an
// operator starts it, ready once it prints where it listens.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface KeywardProcess {
  child: ChildProcess;
  /** http://host:port */
  url: string;
  /** host:port, for grpc-js */
  target: string;
  port: number;
  /** SIGTERM, and waits for the drain to finish. */
  stop(): Promise<void>;
}

export interface ProcessOptions {
  /** Node flags and preloads, after tsx and before src/main.ts (the memory bench's GC hook). */
  nodeArgs?: string[];
  /** Told every stdout line. */
  onLine?: (line: string) => void;
}

/** Starts Keyward on a free port with `env` over this process's environment. */
export async function startKeywardProcess(env: Record<string, string>, options: ProcessOptions = {}): Promise<KeywardProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", ...(options.nodeArgs ?? []), "src/main.ts"], {
    env: { ...process.env, KEYWARD_PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    // Every line is read: an unread pipe would stall the server's logging.
    createInterface({ input: child.stdout! }).on("line", (line) => {
      options.onLine?.(line);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`keyward exited with ${code}`)));
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    url,
    target: url.replace("http://", ""),
    port: Number(new URL(url).port),
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
