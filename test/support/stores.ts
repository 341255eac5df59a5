// The stores every storage and API suite runs on: embedded PGlite always, and
// real PostgreSQL when KEYWARD_TEST_DATABASE_URL names a server (CI starts one).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { StoreLocation } from "../../src/storage/open.js";
import { copyPgliteTemplate } from "../../src/storage/pglite-template.js";
import { BUILT_TEMPLATE, pgliteTemplate } from "./pglite-template.js";

export const POSTGRES_URL = process.env.KEYWARD_TEST_DATABASE_URL;

/** Names the run whose databases these are (postgres-databases.ts drops them after it). */
export const RUN_VARIABLE = "KEYWARD_TEST_DATABASE_RUN";

export interface TestStore {
  name: "pglite" | "postgres";
  /** A fresh, empty database for one suite. */
  create(): Promise<StoreLocation>;
}

/** Runs `work` on a connection to the test server's own database (KEYWARD_TEST_DATABASE_URL). */
export async function onTestServer<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  if (!POSTGRES_URL) throw new Error("KEYWARD_TEST_DATABASE_URL is not set");
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** The run's migrated database, which the suites' stores are copied from (postgres-databases.ts makes it). */
export const postgresTemplate = (run: string) => `keyward_test_${run}_template`;

/**
 * A new database on the test server; its URL. Empty, as a new deployment's,
 * or a copy of the run's migrated template (`migrated`): a copy costs about
 * half the time and server CPU of running every migration again.
 */
export async function freshPostgresDatabase({ migrated = false } = {}): Promise<string> {
  const run = process.env[RUN_VARIABLE];
  const name = `keyward_test_${run ?? "adhoc"}_${randomBytes(6).toString("hex")}`;
  await onTestServer((admin) => admin.query(`create database ${name}${migrated && run !== undefined ? ` template ${postgresTemplate(run)}` : ""}`));
  return postgresUrl(name);
}

/** KEYWARD_TEST_DATABASE_URL with another database. */
export function postgresUrl(database: string): string {
  const url = new URL(POSTGRES_URL!);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The suites' stores start migrated; suites that test a new deployment's start ask freshPostgresDatabase() for an empty one. */
export const TEST_STORES: TestStore[] = [
  { name: "pglite", create: () => fromTemplate({ kind: "pglite" }) },
  ...(POSTGRES_URL ? [{ name: "postgres" as const, create: async () => ({ kind: "postgres" as const, url: await freshPostgresDatabase({ migrated: true }) }) }] : []),
];

/**
 * A PGlite test store as it starts from the build's migrated template, instead
 * of running initdb and every migration in WebAssembly (seconds each): on
 * disk, a directory that holds no cluster yet is copied from it, as the
 * compiled server copies it; in memory, the run's dump of it is loaded
 * (pglite-template.ts). Other stores are returned as they are.
 */
export async function fromTemplate(store: StoreLocation): Promise<StoreLocation> {
  if (store.kind !== "pglite") return store;
  if (store.dataDir === undefined) return store.template === undefined ? { ...store, template: await pgliteTemplate() } : store;
  if (!existsSync(join(store.dataDir, "PG_VERSION"))) copyPgliteTemplate(BUILT_TEMPLATE, store.dataDir);
  return store;
}
