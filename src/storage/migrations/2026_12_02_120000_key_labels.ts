// Frozen: never edit a migration that has shipped; add a new one.
// Labels on keys (issue #23): a small map of metadata (owner, team, ticket).
// The API's rules (proto/keyward/v1/api_keys.proto) are held here too, so no
// writer, however it reaches the table, stores more than the API would take.
import { sql, type Kysely } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations must not depend on today's types
export async function up(db: Kysely<any>): Promise<void> {
  // A CHECK may not hold a subquery, but may call an immutable function that does.
  // CASE first: jsonb_each fails on anything but an object.
  await sql`
    create function keyward_labels_valid(labels jsonb) returns boolean
    language sql immutable as $$
      select case
        when jsonb_typeof(labels) <> 'object' then false
        else (select count(*) <= 16
                 and coalesce(bool_and(key ~ '^[a-z][a-z0-9_.-]{0,62}$'
                                       and jsonb_typeof(value) = 'string'
                                       and char_length(value #>> '{}') <= 256), true)
              from jsonb_each(labels))
      end
    $$`.execute(db);
  await db.schema
    .alterTable("api_keys")
    .addColumn("labels", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`).check(sql`keyward_labels_valid(labels)`))
    .execute();
  // The list's label filter is a containment (`labels @> '{"team":"payments"}'`), which GIN serves.
  await db.schema.createIndex("api_keys_labels").on("api_keys").using("gin").column("labels").execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("api_keys_labels").execute();
  await db.schema.alterTable("api_keys").dropColumn("labels").execute();
  await sql`drop function keyward_labels_valid(jsonb)`.execute(db);
}
