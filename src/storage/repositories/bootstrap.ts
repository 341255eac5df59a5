import { sql, type Kysely } from "kysely";
import type { Database } from "../database.js";

// Arbitrary constant shared by every replica: the advisory lock under which
// the first admin key is issued.
const BOOTSTRAP_LOCK_ID = 0x6b657977; // "keyw"

export class BootstrapRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Waits for, then holds until the transaction ends, the bootstrap lock. */
  async lock(): Promise<void> {
    await sql`select pg_advisory_xact_lock(${sql.lit(BOOTSTRAP_LOCK_ID)})`.execute(this.db);
  }

  async isDone(): Promise<boolean> {
    const row = await this.db.selectFrom("bootstrap").select("api_key_id").executeTakeFirst();
    return row !== undefined;
  }

  async markDone(apiKeyId: string, now: Date): Promise<void> {
    await this.db.insertInto("bootstrap").values({ api_key_id: apiKeyId, create_time: now }).execute();
  }
}
