// Frozen: never edit a migration that has shipped; add a new one.
// Rotation keeps the previous secret's hash alive for an overlap; the audit
// log records every admin mutation and every refused admin attempt.
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("api_keys")
    .addColumn("previous_secret_hash", "text")
    .addColumn("previous_secret_expire_time", "timestamptz")
    .execute();

  await db.schema
    .createTable("audit_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("actor_key_id", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("target", "text", (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("client_ip", "text", (c) => c.notNull())
    .addColumn("create_time", "timestamptz", (c) => c.notNull())
    .addColumn("changed_fields", sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .execute();
  await db.schema.createIndex("audit_events_page_idx").on("audit_events").columns(["create_time desc", "id desc"]).execute();
  await db.schema.createIndex("audit_events_actor_idx").on("audit_events").columns(["actor_key_id", "create_time"]).execute();
  await db.schema.createIndex("audit_events_target_idx").on("audit_events").columns(["target", "create_time"]).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("audit_events").execute();
  await db.schema.alterTable("api_keys").dropColumn("previous_secret_hash").dropColumn("previous_secret_expire_time").execute();
}
