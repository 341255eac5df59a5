// Frozen: never edit a migration that has shipped; add a new one.
// Webhook endpoints (issue #19): the previous signing secret, still used while
// a rotation's overlap lasts, and the failing streak that disables an endpoint.
import type { Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("webhook_endpoints")
    // Deliveries are signed with it as well as the new secret until previous_secret_expire_time.
    .addColumn("previous_secret", "text")
    .addColumn("previous_secret_expire_time", "timestamptz")
    // The first failed attempt since the last delivered one; null while deliveries succeed.
    .addColumn("failing_since", "timestamptz")
    // Set when failing_since is older than KEYWARD_WEBHOOK_DISABLE_AFTER; nothing is sent while it is.
    .addColumn("disable_time", "timestamptz")
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("webhook_endpoints")
    .dropColumn("previous_secret")
    .dropColumn("previous_secret_expire_time")
    .dropColumn("failing_since")
    .dropColumn("disable_time")
    .execute();
}
