// Checks per hour, per key and per verdict code, counted in memory and added
// to the store's hourly rows once per flush interval (app.ts's flush round,
// shared with the last-use writer): a check costs one Map lookup and one array
// increment (its hour is the check's own time, not another clock read), and
// allocates nothing once its key has a counter for the hour.
import type { Store } from "../storage/store.js";
import type { UsageRow } from "../storage/repositories/usage-rollups.js";
import type { Verdict } from "./check.js";
import { InvalidArgumentError, NotFoundError } from "./errors.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The codes counted, in the order of each key's counter array. */
export const USAGE_CODES = [
  "VALID",
  "NOT_FOUND",
  "EXPIRED",
  "RETIRED",
  "SUBNET_DENIED",
  "CONSTRAINT_DENIED",
  "PERMISSION_DENIED",
  "RATE_LIMITED",
  "USAGE_EXCEEDED",
  "MALFORMED",
] as const satisfies readonly Verdict["code"][];

const INDEX = Object.fromEntries(USAGE_CODES.map((code, i) => [code, i])) as Record<Verdict["code"], number>;

/** The longest range one read may ask for: 90 days of hours per code is a few thousand buckets. */
export const MAX_USAGE_RANGE_MS = 90 * DAY_MS;
/** What a read without a range covers. */
export const DEFAULT_USAGE_RANGE_MS = 7 * DAY_MS;

export interface UsageRollupSettings {
  retentionMs: number;
  /**
   * Distinct key ids counted per hour between two flushes, and rows kept for
   * the next flush when one fails; checks beyond are dropped and counted in
   * `dropped` (a metric), so memory stays bounded whatever the traffic.
   */
  maxEntries: number;
}

export interface UsageBucket {
  /** The hour's start (UTC). */
  hour: Date;
  /** Checks in that hour by verdict code (codes with none are absent). */
  counts: Record<string, number>;
}

/** The key a verdict is counted under: the empty id when the presented key proved none. */
function keyIdOf(verdict: Verdict): string {
  if (verdict.code === "VALID") return verdict.key.id;
  return "keyId" in verdict ? verdict.keyId : "";
}

export class UsageRollups {
  /** The hour (ms since the epoch) `counters` counts. */
  private hour = Number.NaN;
  /** Counts since the last flush, by key id; arrays are zeroed in place by a flush and reused within the hour. */
  private counters = new Map<string, Float64Array>();
  /** Past hours' counters that no flush has taken yet. */
  private sealed: Array<{ hour: number; counters: Map<string, Float64Array> }> = [];
  /** Rows a failed flush gives back to the next one. */
  private retry: UsageRow[] = [];
  private lastPrune = Number.NEGATIVE_INFINITY;
  private flushing: Promise<void> = Promise.resolve();
  /** Checks not counted because the bound was reached (a metric; zero in any sane deployment). */
  dropped = 0;

  constructor(
    private readonly store: Store,
    private readonly settings: UsageRollupSettings,
    private readonly now: () => Date,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Counts a check's verdict at the check's time `at` (not a caller's own authentication: only what a check answered). */
  record(verdict: Verdict, at: Date): void {
    const time = at.getTime();
    const hour = time - (time % HOUR_MS);
    if (hour !== this.hour) this.roll(hour);
    const keyId = keyIdOf(verdict);
    let counts = this.counters.get(keyId);
    if (counts === undefined) {
      if (this.counters.size >= this.settings.maxEntries) {
        this.dropped++;
        return;
      }
      counts = new Float64Array(USAGE_CODES.length);
      this.counters.set(keyId, counts);
    }
    const i = INDEX[verdict.code];
    counts[i] = counts[i]! + 1;
  }

  private roll(hour: number): void {
    if (this.counters.size > 0) this.sealed.push({ hour: this.hour, counters: this.counters });
    this.counters = new Map();
    this.hour = hour;
  }

  /** Adds what was counted since the last flush to the store; on failure it is kept (bounded) for the next one. Prunes at most hourly. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const rows = this.take();
      try {
        await this.store.usageRollups.add(rows);
      } catch (error) {
        this.keep(rows);
        this.onError(error);
      }
      const time = this.now().getTime();
      if (time - this.lastPrune >= HOUR_MS) {
        this.lastPrune = time;
        try {
          await this.store.usageRollups.prune(new Date(time - this.settings.retentionMs));
        } catch (error) {
          this.onError(error);
        }
      }
    });
    return this.flushing;
  }

  /** Every count not yet written, one row per (hour, key, code): a statement may not touch one row twice. */
  private take(): UsageRow[] {
    const rows = new Map<string, UsageRow>();
    const add = (hour: number, apiKeyId: string, code: string, count: number) => {
      const id = `${hour}\u0000${apiKeyId}\u0000${code}`;
      const row = rows.get(id);
      if (row) row.count += count;
      else rows.set(id, { hour: new Date(hour), apiKeyId, code, count });
    };
    for (const r of this.retry) add(r.hour.getTime(), r.apiKeyId, r.code, r.count);
    this.retry = [];
    const drain = (hour: number, counters: Map<string, Float64Array>) => {
      for (const [keyId, counts] of counters) {
        for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) add(hour, keyId, USAGE_CODES[i]!, counts[i]!);
        counts.fill(0);
      }
    };
    for (const { hour, counters } of this.sealed) drain(hour, counters);
    this.sealed = [];
    drain(this.hour, this.counters);
    return [...rows.values()];
  }

  private keep(rows: readonly UsageRow[]): void {
    const room = this.settings.maxEntries - this.retry.length;
    this.retry.push(...rows.slice(0, Math.max(0, room)));
    for (const row of rows.slice(Math.max(0, room))) this.dropped += row.count;
  }

  /**
   * Checks per hour in [start, end) by code: of one key, or of the whole
   * deployment (keyless checks included) when apiKeyId is undefined. Without
   * a range, the last 7 days; at most 90 days.
   */
  async history(apiKeyId: string | undefined, start: Date | undefined, end: Date | undefined): Promise<UsageBucket[]> {
    const to = end ?? this.now();
    const from = start ?? new Date(to.getTime() - DEFAULT_USAGE_RANGE_MS);
    if (from.getTime() >= to.getTime()) throw new InvalidArgumentError("start_time", "must be before end_time");
    if (to.getTime() - from.getTime() > MAX_USAGE_RANGE_MS) throw new InvalidArgumentError("end_time", "the range may cover at most 90 days");
    if (apiKeyId !== undefined && !(await this.store.apiKeys.get(apiKeyId))) throw new NotFoundError(`API key "${apiKeyId}" not found`);
    // Whole hours: the hour `from` lies in is included.
    const rows = await this.store.usageRollups.read(apiKeyId, new Date(from.getTime() - (from.getTime() % HOUR_MS)), to);
    const buckets: UsageBucket[] = [];
    for (const row of rows) {
      let last = buckets.at(-1);
      if (last?.hour.getTime() !== row.hour.getTime()) buckets.push((last = { hour: row.hour, counts: {} }));
      last.counts[row.code] = row.count;
    }
    return buckets;
  }
}
