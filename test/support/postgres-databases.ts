// vitest globalSetup: drops, after the run, the databases its suites made on
// the test server (freshPostgresDatabase in stores.ts names them after the
// run). A cluster that keeps them grows by a hundred databases a run, and every
// later run pays for each of them (catalog size, backups of a developer's
// cluster); another run going on at the same time keeps its own.
import { randomBytes } from "node:crypto";
import { onTestServer, POSTGRES_URL, RUN_VARIABLE } from "./stores.js";

export default function setup(): (() => Promise<void>) | undefined {
  if (!POSTGRES_URL) return undefined;
  // Workers are started after this and inherit the variable.
  const run = randomBytes(4).toString("hex");
  process.env[RUN_VARIABLE] = run;
  // Housekeeping: a database it cannot drop is reported, and the run's verdict stands.
  return async () => {
    try {
      await onTestServer(async (admin) => {
        const { rows } = await admin.query<{ datname: string }>("select datname from pg_database where datname like $1", [`keyward_test_${run}_%`]);
        // FORCE: a suite that failed may have left a connection open.
        for (const { datname } of rows) await admin.query(`drop database if exists ${datname} with (force)`);
      });
    } catch (error) {
      process.stderr.write(`could not drop this run's test databases (keyward_test_${run}_*): ${String(error)}\n`);
    }
  };
}
