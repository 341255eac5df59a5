// vitest globalSetup: makes the run's migrated template database on the test
// server, which the suites' PostgreSQL stores are copied from; and drops,
// after the run, every database the run made (freshPostgresDatabase in
// stores.ts names them after the run). A cluster that keeps them grows by a
// hundred databases a run, and every later run pays for each of them (catalog
// size, backups of a developer's cluster); another run going on at the same
// time keeps its own.
import { randomBytes } from "node:crypto";
import { openStore } from "../../src/storage/open.js";
import { onTestServer, POSTGRES_URL, postgresTemplate, postgresUrl, RUN_VARIABLE } from "./stores.js";

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (!POSTGRES_URL) return undefined;
  // Workers are started after this and inherit the variable.
  const run = randomBytes(4).toString("hex");
  process.env[RUN_VARIABLE] = run;
  const teardown = () => dropDatabasesOf(run);
  try {
    const template = postgresTemplate(run);
    await onTestServer((admin) => admin.query(`create database ${template}`));
    // Migrated by Keyward's own start-up code; closed, as a template must have no session.
    await (await openStore({ kind: "postgres", url: postgresUrl(template) })).close();
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

/** Housekeeping: a database it cannot drop is reported, and the run's verdict stands. */
async function dropDatabasesOf(run: string): Promise<void> {
  try {
    await onTestServer(async (admin) => {
      const { rows } = await admin.query<{ datname: string }>("select datname from pg_database where datname like $1", [`keyward_test_${run}_%`]);
      // FORCE: a suite that failed may have left a connection open.
      for (const { datname } of rows) await admin.query(`drop database if exists ${datname} with (force)`);
    });
  } catch (error) {
    process.stderr.write(`could not drop this run's test databases (keyward_test_${run}_*): ${String(error)}\n`);
  }
}
