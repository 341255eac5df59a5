// What Keyward's two commands (`npm start`: main.ts; `npm run recover`:
// recover.ts) say to the process that runs them: a configuration error, a
// failure, and admin credentials handed over once. Process I/O, not a domain
// rule: domain/bootstrap.ts decides when a key is issued; this says where it goes.
import { writeFile } from "node:fs/promises";
import { ConfigError, loadConfig, type Config } from "./config.js";

/** The configuration from the environment; on a configuration error, says so and exits 2. */
export function configOrExit(command: string): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${command}: configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Says why the command failed (and what caused that) on stderr, then exits 1. */
export function failAndExit(what: string, error: unknown): never {
  process.stderr.write(`${what}: ${error instanceof Error ? error.message : String(error)}\n`);
  if (error instanceof Error && error.cause) process.stderr.write(`  cause: ${String(error.cause)}\n`);
  process.exit(1);
}

/** Writes admin credentials once: to a new 0600 file, or as one stdout line (`what` names them there). */
export function defaultBootstrapDelivery(file: string | undefined, what = "bootstrap admin key"): (credentials: string) => Promise<void> {
  if (file !== undefined) {
    return async (credentials) => {
      // "wx" refuses to overwrite: the file is written once, ever.
      await writeFile(file, `${credentials}\n`, { mode: 0o600, flag: "wx" });
    };
  }
  return async (credentials) => {
    process.stdout.write(`Keyward ${what} (shown once, store it now): ${credentials}\n`);
  };
}
