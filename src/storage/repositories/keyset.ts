import { sql, type RawBuilder } from "kysely";

/**
 * The rows past a page's last one, in (sort value, id) order, ascending or
 * descending: a row comparison keeps the pair one keyset, so rows that share a
 * sort value are neither skipped nor repeated. `value` may be SQL (a stand-in
 * for a null sort value) or a plain value, sent as a parameter.
 */
export function pastPosition(sort: RawBuilder<unknown>, id: RawBuilder<unknown>, position: { value: unknown; id: string }, descending: boolean): RawBuilder<boolean> {
  return descending
    ? sql<boolean>`(${sort}, ${id}) < (${position.value}, ${position.id})`
    : sql<boolean>`(${sort}, ${id}) > (${position.value}, ${position.id})`;
}
