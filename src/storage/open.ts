import { existsSync } from "node:fs";
import { join } from "node:path";
import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import { PgliteChangeFeed, PostgresChangeFeed, type ChangeFeed } from "./changes.js";
import type { Database } from "./database.js";
import { lockDataDir, type DataDirLock } from "./data-dir-lock.js";
import { secureDataDir } from "./data-dir-modes.js";
import { migrateToLatest } from "./migrate.js";
import { checkReachable } from "./postgres-reach.js";
import { querySpan } from "./query-spans.js";
import { Store } from "./store.js";

export type StoreLocation =
  | { kind: "postgres"; url: string; poolSize?: number }
  // dataDir undefined = in memory (tests). `template`: a dump (PGlite's dumpDataDir) of a store
  // already initialised, to start an in-memory one from instead of running initdb (tests start hundreds).
  | { kind: "pglite"; dataDir?: string; template?: Blob };

export interface OpenOptions {
  /** Told about anything fixed on the way that an operator should know of. */
  warn?: (message: string, details: Record<string, unknown>) => void;
  /** A span per query (src/telemetry.ts); off, kysely neither times nor reports queries. */
  traceQueries?: boolean;
}

/**
 * Opens the database, applies pending migrations and returns the store. An
 * embedded store on disk is first made private (0700/0600) and locked to this
 * process (DataDirLockedError if another holds it) until the store closes;
 * PostgreSQL is first connected to once (DatabaseUnreachableError).
 */
export async function openStore(location: StoreLocation, options: OpenOptions = {}): Promise<Store> {
  const { db, changes, lock } =
    location.kind === "postgres"
      ? await openPostgres(location.url, location.poolSize ?? 10, options)
      : await openPglite(location.dataDir, location.template, options);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    lock?.release();
    throw error;
  }
  return new Store(db, location.kind, changes, () => lock?.release());
}

const logOf = (options: OpenOptions) => (options.traceQueries ? querySpan : undefined);

interface Opened {
  db: Kysely<Database>;
  changes: ChangeFeed;
  lock?: DataDirLock;
}

// Each store's driver is imported when that store is opened, so a start loads
// and compiles only its own (PGlite's is megabytes of JavaScript).
async function openPostgres(url: string, max: number, options: OpenOptions): Promise<Opened> {
  const { default: driver } = await import("pg");
  const pool: pg.Pool = new driver.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  // Nor one the pool has lent out (the pool stops listening while a client is
  // out, e.g. between two queries of a transaction): its next query fails with
  // a connection error (UNAVAILABLE) and the pool drops it when it comes back.
  pool.on("connect", (client) => client.on("error", () => {}));
  try {
    await checkReachable(pool, url);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: logOf(options) }), changes: new PostgresChangeFeed(url) };
}

/**
 * PGlite's PostgreSQL settings beyond its own. shared_buffers: initdb picks
 * 128 MB and PostgreSQL touches all of it at start, so that much RSS was taken
 * before the first request (issue #16). In one embedded process the pages it
 * does not hold are read through the file system, whose cache the kernel keeps
 * outside the process: 16 MB is room for every page one statement pins many
 * times over. Command-line settings: the data directory's postgresql.conf is
 * left as initdb wrote it.
 */
const PGLITE_SETTINGS: readonly string[] = ["-c", "shared_buffers=16MB"];

async function openPglite(dataDir: string | undefined, template: Blob | undefined, options: OpenOptions): Promise<Opened> {
  const [{ PGlite }, { PGliteDialect }, { PrivateNodeFS }, { copyBuiltPgliteTemplate }, { openInMemoryPglite }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("kysely-pglite-dialect"),
    import("./private-node-fs.js"),
    import("./pglite-template.js"),
    import("./pglite-in-memory.js"),
  ]);
  if (dataDir === undefined) {
    const pglite = await openInMemoryPglite(template);
    return { db: new Kysely<Database>({ dialect: new PGliteDialect(pglite), log: logOf(options) }), changes: new PgliteChangeFeed(pglite) };
  }
  const { tightened } = secureDataDir(dataDir);
  const lock = lockDataDir(dataDir);
  if (tightened > 0) {
    options.warn?.("tightened the permissions of the data directory: group and other users had access", { dataDir, entries: tightened });
  }
  try {
    // A directory without a cluster yet starts from the build's template, if any (pglite-template.ts).
    if (!existsSync(join(dataDir, "PG_VERSION"))) copyBuiltPgliteTemplate(dataDir);
    const pglite = await PGlite.create({ fs: new PrivateNodeFS(dataDir), startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS] });
    return { db: new Kysely<Database>({ dialect: new PGliteDialect(pglite), log: logOf(options) }), changes: new PgliteChangeFeed(pglite), lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}
