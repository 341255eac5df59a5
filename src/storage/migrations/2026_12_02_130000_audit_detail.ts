// Frozen: never edit a migration that has shipped; add a new one.
// An audit event may carry what an actor that is not a key said about the
// action (a signed leak report's source and URL); empty for every other event.
import type { Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("audit_events").addColumn("detail", "text", (col) => col.notNull().defaultTo("")).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("audit_events").dropColumn("detail").execute();
}
