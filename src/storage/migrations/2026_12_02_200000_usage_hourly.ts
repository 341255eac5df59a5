// Frozen: never edit a migration that has shipped; add a new one.
// Checks per hour, per key and per verdict code: rollups, never a row per check.
// Keyless verdicts (NOT_FOUND, MALFORMED) count under the empty key id.
import type { Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("usage_hourly")
    .addColumn("hour", "timestamptz", (col) => col.notNull())
    .addColumn("api_key_id", "text", (col) => col.notNull())
    .addColumn("code", "text", (col) => col.notNull())
    .addColumn("count", "bigint", (col) => col.notNull())
    .addPrimaryKeyConstraint("usage_hourly_pkey", ["hour", "api_key_id", "code"])
    .execute();
  // A key's history reads by key then hour; the primary key serves the deployment-wide reads and the pruning.
  await db.schema.createIndex("usage_hourly_key_hour").on("usage_hourly").columns(["api_key_id", "hour"]).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("usage_hourly").execute();
}
