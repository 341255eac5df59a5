// Frozen: never edit a migration that has shipped; add a new one.
// Usage limits (design §9, issue #20): rate limits on keys and policies,
// credits on keys, and the shared rate-limit windows every replica adds to.
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  // `[{"limit":10,"periodMs":1000}]`; empty = none (a key's empty list means its policy's).
  await db.schema.alterTable("api_keys").addColumn("rate_limits", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`)).execute();
  await db.schema.alterTable("policies").addColumn("rate_limits", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`)).execute();
  // Null = no credits. The pool: credits no replica holds in a lease.
  await db.schema
    .alterTable("api_keys")
    .addColumn("credits_remaining", "bigint")
    .addColumn("credits_refill_amount", "bigint")
    .addColumn("credits_refill_interval", "text")
    // When the credits were last set or refilled: a refill is due once a new interval has begun since.
    .addColumn("credits_set_time", "timestamptz")
    // Bumped whenever the pool is set or refilled: credits leased before are never returned into the new pool.
    .addColumn("credits_epoch", "integer", (c) => c.notNull().defaultTo(0))
    // What the last lease granted: written by the lease's UPDATE so that its RETURNING can say (it sees only new values).
    .addColumn("credits_last_grant", "bigint")
    .execute();
  await db.schema
    .createTable("rate_windows")
    .addColumn("api_key_id", "text", (c) => c.notNull().references("api_keys.id").onDelete("cascade"))
    .addColumn("period_ms", "bigint", (c) => c.notNull())
    .addColumn("window_start", "timestamptz", (c) => c.notNull())
    .addColumn("count", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("rate_windows_pk", ["api_key_id", "period_ms", "window_start"])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("rate_windows").execute();
  await db.schema
    .alterTable("api_keys")
    .dropColumn("rate_limits")
    .dropColumn("credits_remaining")
    .dropColumn("credits_refill_amount")
    .dropColumn("credits_refill_interval")
    .dropColumn("credits_set_time")
    .dropColumn("credits_epoch")
    .dropColumn("credits_last_grant")
    .execute();
  await db.schema.alterTable("policies").dropColumn("rate_limits").execute();
}
