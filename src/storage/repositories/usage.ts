// Usage limits' shared state (design §9): credit leases and rate-limit
// windows. Each write is one statement, so it is atomic on its own and costs
// one round trip; none of them publishes a change (a lease or a count is not
// a change to the key, and must not empty every replica's cache).
import { sql, type Kysely } from "kysely";
import type { Database } from "../database.js";
import type { CreditsRecord, RefillInterval } from "../records.js";

/** Credits taken from a key's pool by one replica. */
export interface CreditLease {
  granted: number;
  /** The pool once this lease was taken (what other replicas may still lease). */
  poolAfter: number;
  /** The pool's generation: unused credits go back only into the pool they came from. */
  epoch: number;
  /** When the pool is next refilled (null: never); the lease is good until then. */
  nextRefill: Date | null;
}

export interface RateCount {
  keyId: string;
  periodMs: number;
  windowStart: number;
  /** Checks this replica admitted since it last told the store (0: only read the total). */
  add: number;
}

/** The start of the refill interval that `now` lies in (UTC), as PostgreSQL's date_trunc(…, 'UTC') gives it. */
export function intervalStart(interval: RefillInterval, now: Date): Date {
  return interval === "day"
    ? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
    : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export function nextIntervalStart(interval: RefillInterval, now: Date): Date {
  return interval === "day"
    ? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))
    : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

interface CreditColumns {
  credits_remaining: string | number | null;
  credits_refill_amount: string | number | null;
  credits_refill_interval: RefillInterval | null;
  credits_set_time: Date | null;
}

/** A key's credits as read now: a refill that is due but not yet taken counts as taken. */
export function creditsOf(row: CreditColumns, now: Date): CreditsRecord | null {
  if (row.credits_remaining === null) return null;
  const interval = row.credits_refill_interval;
  const refill = interval !== null && row.credits_refill_amount !== null ? { amount: Number(row.credits_refill_amount), interval } : null;
  const due = refill !== null && row.credits_set_time !== null && row.credits_set_time < intervalStart(refill.interval, now);
  return { remaining: due ? refill.amount : Number(row.credits_remaining), refill };
}

export class UsageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Takes up to `want` credits from the key's pool in one UPDATE (refilling it
   * first when a refill is due): the row lock serialises replicas, so no credit
   * is ever granted twice. Undefined when the key has no credits (or is gone).
   */
  async lease(keyId: string, want: number, now: Date): Promise<CreditLease | undefined> {
    const due = sql<boolean>`(credits_refill_interval is not null and credits_set_time < date_trunc(credits_refill_interval, ${now}::timestamptz, 'UTC'))`;
    const pool = sql<number>`(case when ${due} then credits_refill_amount else credits_remaining end)`;
    const { rows } = await sql<{ granted: string | number; pool_after: string | number; epoch: number; interval: RefillInterval | null }>`
      update api_keys set
        credits_last_grant = least(${want}::bigint, ${pool}),
        credits_remaining = ${pool} - least(${want}::bigint, ${pool}),
        credits_set_time = case when ${due} then ${now}::timestamptz else credits_set_time end,
        credits_epoch = credits_epoch + case when ${due} then 1 else 0 end
      where id = ${keyId} and credits_remaining is not null
      returning credits_last_grant as granted, credits_remaining as pool_after, credits_epoch as epoch, credits_refill_interval as interval`.execute(this.db);
    const row = rows[0];
    if (!row) return undefined;
    return {
      granted: Number(row.granted),
      poolAfter: Number(row.pool_after),
      epoch: row.epoch,
      nextRefill: row.interval === null ? null : nextIntervalStart(row.interval, now),
    };
  }

  /** Gives unused credits back, unless the pool was set or refilled since they were leased. */
  async giveBack(keyId: string, epoch: number, amount: number): Promise<void> {
    if (amount <= 0) return;
    await sql`
      update api_keys set credits_remaining = credits_remaining + ${amount}::bigint
      where id = ${keyId} and credits_epoch = ${epoch} and credits_remaining is not null`.execute(this.db);
  }

  /**
   * Adds each replica's new checks to the shared windows and reads every
   * window's total, in one statement. Rows must name distinct windows.
   */
  async addRateCounts(counts: readonly RateCount[]): Promise<number[]> {
    if (counts.length === 0) return [];
    const values = sql.join(
      counts.map((c) => sql`(${c.keyId}::text, ${c.periodMs}::bigint, ${new Date(c.windowStart)}::timestamptz, ${c.add}::bigint)`),
    );
    // A key deleted meanwhile has no row to reference: its counts are dropped, not an error.
    const { rows } = await sql<{ api_key_id: string; period_ms: string | number; window_start: Date; count: string | number }>`
      insert into rate_windows (api_key_id, period_ms, window_start, count)
      select v.* from (values ${values}) as v(api_key_id, period_ms, window_start, count)
      where exists (select 1 from api_keys where api_keys.id = v.api_key_id)
      on conflict (api_key_id, period_ms, window_start) do update set count = rate_windows.count + excluded.count
      returning api_key_id, period_ms, window_start, count`.execute(this.db);
    const total = new Map(rows.map((r) => [`${r.api_key_id}/${Number(r.period_ms)}/${r.window_start.getTime()}`, Number(r.count)]));
    return counts.map((c) => total.get(`${c.keyId}/${c.periodMs}/${c.windowStart}`) ?? 0);
  }

  /** Forgets windows no sliding window can look at any more. */
  async dropOldWindows(now: Date): Promise<void> {
    await sql`delete from rate_windows where window_start < ${now}::timestamptz - (period_ms * 2) * interval '1 millisecond'`.execute(this.db);
  }
}
