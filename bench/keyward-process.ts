// Keyward as a bench measures it: its own process on the store this process's
// environment names (DATABASE_URL, else embedded PGlite), logging at info,
// its stderr shown live to whoever runs the bench.
import { startKeywardProcess, type ListeningProcess } from "../harness/process.js";

/** Starts Keyward on a free port with `env` over the bench's defaults; `nodeArgs` as in SpawnOptions. */
export const startBenchKeyward = (env: Record<string, string>, nodeArgs: string[] = []): Promise<ListeningProcess> =>
  startKeywardProcess({ DATABASE_URL: process.env.DATABASE_URL ?? "", LOG_LEVEL: "info", ...env }, { stderr: "inherit", nodeArgs });
