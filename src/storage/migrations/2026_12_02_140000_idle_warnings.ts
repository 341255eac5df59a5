// Frozen: never edit a migration that has shipped; add a new one.
// Idle warnings (issue #19): when a key was last warned (`api_key.expiring`,
// reason "idle") that idle retirement is coming. A warning counts only for the
// idle spell it was given in: a key used after it must be warned again before
// it can be retired (domain/lifecycle.ts). No backfill: every existing key
// counts as never warned, so turning idle retirement on warns before it retires.
import type { Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("api_keys").addColumn("idle_warned_at", "timestamptz").execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("api_keys").dropColumn("idle_warned_at").execute();
}
