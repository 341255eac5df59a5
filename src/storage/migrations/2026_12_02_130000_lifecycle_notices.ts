// Frozen: never edit a migration that has shipped; add a new one.
// Lifecycle notices (issue #19): when a key's `api_key.expiring` and
// `api_key.expired` events were written, so each goes out once per expiry
// however many rounds, replicas and restarts see the key. Changing a key's
// expiry clears them (storage/repositories/api-keys.ts), so it is announced again.
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("api_keys")
    .addColumn("expiring_notified_at", "timestamptz")
    .addColumn("expired_notified_at", "timestamptz")
    .execute();
  // Keys that expired before this release are not news: announcing every one
  // of them on the first round after an upgrade would be a flood of stale events.
  await sql`update api_keys set expiring_notified_at = now(), expired_notified_at = now() where expire_time <= now()`.execute(db);
  // Each round asks for the active keys not yet announced, by expiry: these
  // partial indexes hold only those, so the question stays cheap as keys pile up.
  await sql`create index api_keys_expiring_due on api_keys (expire_time) where state = 'active' and expiring_notified_at is null`.execute(db);
  await sql`create index api_keys_expired_due on api_keys (expire_time) where state = 'active' and expired_notified_at is null`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("api_keys_expired_due").execute();
  await db.schema.dropIndex("api_keys_expiring_due").execute();
  await db.schema.alterTable("api_keys").dropColumn("expired_notified_at").dropColumn("expiring_notified_at").execute();
}
