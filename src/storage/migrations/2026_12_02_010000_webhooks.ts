// Frozen: never edit a migration that has shipped; add a new one.
// Signed webhooks (design §8, issue #19): endpoints, and the outbox of
// deliveries written in the same transaction as the change they announce.
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("webhook_endpoints")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("url", "text", (c) => c.notNull())
    // Empty = every event type.
    .addColumn("event_types", sql`text[]`, (c) => c.notNull())
    // The signing key itself (HMAC needs it, a hash would not do); never read back by the API.
    .addColumn("secret", "text", (c) => c.notNull())
    .addColumn("create_time", "timestamptz", (c) => c.notNull())
    .addColumn("creator_key_id", "text")
    .execute();
  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    // Deleting an endpoint drops its deliveries: nothing more is sent to it.
    .addColumn("endpoint_id", "text", (c) => c.notNull().references("webhook_endpoints.id").onDelete("cascade"))
    .addColumn("event_type", "text", (c) => c.notNull())
    // The exact bytes signed and sent on every attempt.
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_time", "timestamptz", (c) => c.notNull())
    .addColumn("last_status_code", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_error", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("create_time", "timestamptz", (c) => c.notNull())
    .addColumn("deliver_time", "timestamptz")
    .execute();
  // The dispatcher's claim: due pending deliveries, oldest due first.
  await db.schema.createIndex("webhook_deliveries_due").on("webhook_deliveries").columns(["next_attempt_time"]).where(sql<boolean>`state = 'pending'`).execute();
  // The deliveries list, newest first per endpoint.
  await db.schema.createIndex("webhook_deliveries_endpoint").on("webhook_deliveries").columns(["endpoint_id", "create_time"]).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("webhook_deliveries").execute();
  await db.schema.dropTable("webhook_endpoints").execute();
}
