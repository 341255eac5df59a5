// Checks per hour, key and verdict code. Rows are added to, never one per
// check: each flush adds its counts in one statement per chunk, in one transaction.
import { sql, type Kysely } from "kysely";
import type { Database } from "../database.js";

export interface UsageRow {
  hour: Date;
  /** Empty: checks that proved no key (deployment-wide only). */
  apiKeyId: string;
  code: string;
  count: number;
}

/** PostgreSQL takes at most 65,535 parameters per statement; four per row. */
const ROWS_PER_STATEMENT = 10_000;

export class UsageRollupRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Adds counts to their hours' rows (creating them). The rows must be distinct by (hour, key, code). */
  async add(rows: readonly UsageRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
        await tx
          .insertInto("usage_hourly")
          .values(chunk.map((r) => ({ hour: r.hour, api_key_id: r.apiKeyId, code: r.code, count: r.count })))
          .onConflict((oc) => oc.columns(["hour", "api_key_id", "code"]).doUpdateSet({ count: sql`usage_hourly.count + excluded.count` }))
          .execute();
      }
    });
  }

  /**
   * Counts per hour and code in [start, end): of one key, or summed over the
   * whole deployment (every key and the keyless checks) when apiKeyId is undefined.
   */
  async read(apiKeyId: string | undefined, start: Date, end: Date): Promise<UsageRow[]> {
    let query = this.db
      .selectFrom("usage_hourly")
      .select(["hour", "code", sql<string | number>`sum(count)`.as("total")])
      .where("hour", ">=", start)
      .where("hour", "<", end)
      .groupBy(["hour", "code"])
      .orderBy("hour")
      .orderBy("code");
    if (apiKeyId !== undefined) query = query.where("api_key_id", "=", apiKeyId);
    const rows = await query.execute();
    return rows.map((r) => ({ hour: r.hour, apiKeyId: apiKeyId ?? "", code: r.code, count: Number(r.total) }));
  }

  /** Removes the hours before `before`; how many rows went. */
  async prune(before: Date): Promise<number> {
    const result = await this.db.deleteFrom("usage_hourly").where("hour", "<", before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
