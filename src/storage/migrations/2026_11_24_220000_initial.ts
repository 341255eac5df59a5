// Frozen: never edit a migration that has shipped; add a new one.
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("services")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("update_time", "timestamptz", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("permissions")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("service", "text", (c) => c.notNull().references("services.name"))
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("registered", "boolean", (c) => c.notNull())
    .addColumn("update_time", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("permissions_service_idx").on("permissions").column("service").execute();

  await db.schema
    .createTable("policies")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("permissions", sql`text[]`, (c) => c.notNull())
    .addColumn("create_time", "timestamptz", (c) => c.notNull())
    .addColumn("update_time", "timestamptz", (c) => c.notNull())
    .addColumn("creator_key_id", "text")
    .execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("policy_id", "text", (c) => c.notNull().references("policies.id").onDelete("cascade"))
    .addColumn("secret_hash", "text", (c) => c.notNull())
    .addColumn("expire_time", "timestamptz", (c) => c.notNull())
    .addColumn("allowed_subnets", sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("constraints", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn("state", "text", (c) => c.notNull().check(sql`state in ('active', 'retired')`))
    .addColumn("create_time", "timestamptz", (c) => c.notNull())
    .addColumn("update_time", "timestamptz", (c) => c.notNull())
    .addColumn("last_used_time", "timestamptz")
    .addColumn("creator_key_id", "text")
    .addColumn("retire_time", "timestamptz")
    .addColumn("retirer_key_id", "text")
    .execute();
  await db.schema.createIndex("api_keys_policy_idx").on("api_keys").column("policy_id").execute();
  await db.schema.createIndex("api_keys_page_idx").on("api_keys").columns(["create_time", "id"]).execute();

  // One row at most: its presence means the first admin key was issued, so it never is again.
  await db.schema
    .createTable("bootstrap")
    .addColumn("singleton", "boolean", (c) => c.primaryKey().defaultTo(true).check(sql`singleton`))
    .addColumn("api_key_id", "text", (c) => c.notNull())
    .addColumn("create_time", "timestamptz", (c) => c.notNull())
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ["bootstrap", "api_keys", "policies", "permissions", "services"]) {
    await db.schema.dropTable(table).execute();
  }
}
