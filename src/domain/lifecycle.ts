// Key lifecycle that runs itself (design §8, issue #19): every replica runs a
// round each interval, and a round announces keys entering their expiry
// warning (`api_key.expiring`), keys past their expiry (`api_key.expired`),
// and, when KEYWARD_IDLE_RETIRE_AFTER is set, retires keys unused that long,
// each only after warning of it (`api_key.expiring` again, reason "idle").
//
// One replica at a time: a round's transaction first tries a PostgreSQL
// advisory lock and, held elsewhere, gives up at once (the other replica is
// doing the work). "Once per key" is durable: an event and the marker saying it
// was sent commit together, so a crash, a restart or another replica never
// sends it twice, and a round that failed sends nothing and is redone.
// A round works in batches of bounded size, one transaction each, so a
// backlog (a first start, a long outage) never becomes one huge transaction.
import type { Store } from "../storage/store.js";
import type { ApiKeys } from "./api-keys.js";
import { apiKeyData, emit } from "./events.js";
import { RepeatingRound } from "./repeating-round.js";

export interface LifecycleSettings {
  /** How often each replica tries a round. */
  readonly intervalMs: number;
  /** How long before its expiry a key is announced as expiring. */
  readonly expiryWarningMs: number;
  /** Retire active keys unused this long; undefined = never. */
  readonly idleRetireAfterMs: number | undefined;
  /** The most keys of each kind one batch (one transaction) handles. */
  readonly batchSize: number;
}

/** What a round did, for logs and tests; `busy`: another replica held the round's lock. */
export interface RoundSummary {
  busy: boolean;
  expiring: number;
  expired: number;
  /** Keys warned that they will be retired for idleness. */
  idleWarned: number;
  /** The keys retired for idleness. */
  idleRetired: string[];
  /** Idle keys left active because each was the last admin key. */
  lastAdminKept: string[];
}

export interface LifecycleNotes {
  idleRetired(keyId: string): void;
  /** Called once per key per process: the key stays active however many rounds see it. */
  lastAdminKept(keyId: string): void;
  /** A round failed (once per run of failures, not once per round while the store is down). */
  failed(error: unknown): void;
}

/**
 * How long before its idle retirement a key is warned: KEYWARD_EXPIRY_WARNING,
 * or half the idle period when the warning is not shorter than it (a key must
 * be idle a while before it is warned, else every new key would be at once).
 */
const idleWarningLeadMs = (idleRetireAfterMs: number, expiryWarningMs: number): number =>
  expiryWarningMs < idleRetireAfterMs ? expiryWarningMs : Math.floor(idleRetireAfterMs / 2);

export class LifecycleScheduler {
  private readonly rounds: RepeatingRound;
  private readonly keptNoted = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly apiKeys: ApiKeys,
    private readonly settings: LifecycleSettings,
    private readonly now: () => Date,
    private readonly notes: LifecycleNotes,
  ) {
    this.rounds = new RepeatingRound(settings.intervalMs, () => this.runOnce(), (error) => notes.failed(error));
  }

  start(): void {
    this.rounds.start();
  }

  /** Runs one round now: batch after batch until nothing is left due (or another replica holds the lock). */
  async runOnce(): Promise<RoundSummary> {
    const total: RoundSummary = { busy: false, expiring: 0, expired: 0, idleWarned: 0, idleRetired: [], lastAdminKept: [] };
    for (;;) {
      const batch = await this.runBatch();
      if (batch === undefined) return { ...total, busy: true };
      total.expiring += batch.expiring;
      total.expired += batch.expired;
      total.idleWarned += batch.idleWarned;
      total.idleRetired.push(...batch.idleRetired);
      total.lastAdminKept.push(...batch.lastAdminKept);
      // Told once committed: a batch that rolled back retired nothing.
      for (const id of batch.idleRetired) this.notes.idleRetired(id);
      for (const id of batch.lastAdminKept) {
        if (!this.keptNoted.has(id)) this.notes.lastAdminKept(id);
        this.keptNoted.add(id);
      }
      // A batch that filled up may have left more behind; every key it took was
      // settled (announced, retired or kept), so the next one moves on.
      if (!batch.full) return total;
    }
  }

  /** One transaction under the lock; undefined when another replica holds it. */
  private runBatch(): Promise<(Omit<RoundSummary, "busy"> & { full: boolean }) | undefined> {
    const { batchSize, expiryWarningMs, idleRetireAfterMs } = this.settings;
    return this.store.transaction(async (repos) => {
      if (!(await repos.apiKeys.tryLockLifecycle())) return undefined;
      const now = this.now();

      const expired = await repos.apiKeys.dueExpired(now, batchSize);
      for (const key of expired) await emit(repos, "api_key.expired", now, () => ({ apiKey: apiKeyData(key) }));
      await repos.apiKeys.markExpiredNotified(expired.map((k) => k.id), now);

      const expiring = await repos.apiKeys.dueExpiring(now, new Date(now.getTime() + expiryWarningMs), batchSize);
      for (const key of expiring) await emit(repos, "api_key.expiring", now, () => ({ apiKey: apiKeyData(key), reason: "expiry" }));
      await repos.apiKeys.markExpiringNotified(expiring.map((k) => k.id), now);

      const idleRetired: string[] = [];
      const lastAdminKept: string[] = [];
      let idleWarned = 0;
      let idleFull = false;
      if (idleRetireAfterMs !== undefined) {
        const leadMs = idleWarningLeadMs(idleRetireAfterMs, expiryWarningMs);
        const warnAfterMs = idleRetireAfterMs - leadMs;
        // Retirements before warnings: a key warned in this batch is retired
        // in a later round, never in the same one.
        const idle = await repos.apiKeys.dueIdleRetirement(now, warnAfterMs, idleRetireAfterMs, leadMs, batchSize);
        for (const key of idle) {
          if (await this.apiKeys.retireIdleLocked(repos, key)) idleRetired.push(key.id);
          else lastAdminKept.push(key.id);
        }
        const warn = await repos.apiKeys.dueIdleWarning(now, warnAfterMs, batchSize);
        for (const key of warn) {
          const idleSince = key.lastUsedTime ?? key.createTime;
          // On time, a key is retired when its idle spell reaches the limit; warned
          // late (idle retirement just turned on, or a long outage), it gets the full lead.
          const retireTime = new Date(Math.max(idleSince.getTime() + idleRetireAfterMs, now.getTime() + leadMs));
          await emit(repos, "api_key.expiring", now, () => ({
            apiKey: apiKeyData(key),
            reason: "idle",
            retireTime: retireTime.toISOString(),
            lastUsedTime: key.lastUsedTime?.toISOString() ?? null,
          }));
        }
        await repos.apiKeys.markIdleWarned(warn.map((k) => k.id), now);
        idleWarned = warn.length;
        // A kept key comes back every time: the batch counts as full (more may
        // be behind it) only when it also retired some, so the loop always ends.
        idleFull = (idle.length >= batchSize && idleRetired.length > 0) || warn.length >= batchSize;
      }
      const full = expired.length >= batchSize || expiring.length >= batchSize || idleFull;
      return { expiring: expiring.length, expired: expired.length, idleWarned, idleRetired, lastAdminKept, full };
    });
  }

  /** Stops the timer and waits for a round in progress. */
  close(): Promise<void> {
    return this.rounds.close();
  }
}
