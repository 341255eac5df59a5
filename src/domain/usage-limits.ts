// Usage limits (design §9, issue #20): rate limits and credits, enforced in
// CheckKey across replicas.
//
// Rate limits: a sliding-window counter per limit (the weighted sum of the
// previous and current fixed windows, aligned on the epoch so every replica
// shares the same windows). Each replica counts locally, so a check does no
// I/O; every `syncMs` it adds its new counts to the shared window rows in one
// statement and reads back the totals of every replica. A replica therefore
// admits on totals at most one sync (plus a round trip) old: the overshoot
// bound in the README follows from that.
//
// Credits: exact. A replica leases a batch from the key's pool with one atomic
// UPDATE (storage/repositories/usage.ts), spends it locally, and gives back
// what it did not use after `leaseHoldMs` (or on shutdown, or when the key
// changes). A lease is sized to the key's pace: `leaseSize` for a key used now
// and then, growing up to `leaseMaxSize` for a hot one so that a lease lasts
// about `LEASE_TARGET_MS` (one UPDATE per lease, not per ten checks). A credit is granted by the store once and spent by one replica
// once, so none is spent twice; a replica killed while holding a lease loses
// what it held (at most one lease), which is never given back twice either.
import type { CreditLease, RateCount } from "../storage/repositories/usage.js";
import type { CreditsRecord, RateLimitRecord } from "../storage/records.js";
import { InvalidArgumentError, PermissionDeniedError } from "./errors.js";

/** Rate limits as given (their bounds are proto/'s): no two may share a period, since a period names its window. */
export function checkRateLimits(field: string, limits: readonly RateLimitRecord[]): RateLimitRecord[] {
  return limits.map((l, i) => {
    if (!Number.isSafeInteger(l.limit) || l.limit <= 0) throw new InvalidArgumentError(`${field}[${i}].limit`, "must be a whole number above 0");
    if (!Number.isSafeInteger(l.periodMs) || l.periodMs < 1000) throw new InvalidArgumentError(`${field}[${i}].period`, "must be at least 1s, in whole milliseconds");
    const twin = limits.findIndex((o) => o.periodMs === l.periodMs);
    if (twin !== i) throw new InvalidArgumentError(`${field}[${i}].period`, `is the period of ${field}[${twin}] already`);
    return { limit: l.limit, periodMs: l.periodMs };
  });
}

/**
 * Narrowing (issue #20): a rate-limited caller may only give keys limits at
 * least as tight, else it could mint a key that escapes its own. A limit of
 * L' per P' implies L per P when L' ≤ L and P' ≥ P (every window of P lies
 * within one of P'). Each of the caller's limits must be implied by one of the key's.
 */
export function assertRateLimitsWithin(field: string, limits: readonly RateLimitRecord[], callerLimits: readonly RateLimitRecord[] | undefined): void {
  for (const c of callerLimits ?? []) {
    if (!limits.some((l) => l.limit <= c.limit && l.periodMs >= c.periodMs)) {
      throw new PermissionDeniedError(`${field}: your own key is limited to ${c.limit} checks per ${c.periodMs / 1000}s; a key you manage must be limited at least as tightly`);
    }
  }
}

export function checkCredits(field: string, credits: CreditsRecord | null): CreditsRecord | null {
  if (credits === null) return null;
  if (!Number.isSafeInteger(credits.remaining) || credits.remaining < 0) throw new InvalidArgumentError(`${field}.remaining`, "must be a whole number, 0 or more");
  if (credits.refill && (!Number.isSafeInteger(credits.refill.amount) || credits.refill.amount <= 0)) {
    throw new InvalidArgumentError(`${field}.refill.amount`, "must be a whole number above 0");
  }
  return credits;
}

/** What a key's checks are limited by, worked out once per cache entry. */
export interface EffectiveLimits {
  /** The key's own, else its policy's; empty = none. */
  rateLimits: readonly RateLimitRecord[];
  credits: boolean;
}

/** The limits a key is checked against; undefined for a key without any (it pays nothing extra). */
export function effectiveLimits(
  key: { rateLimits: readonly RateLimitRecord[]; credits: unknown },
  policy: { rateLimits: readonly RateLimitRecord[] },
): EffectiveLimits | undefined {
  const rateLimits = key.rateLimits.length > 0 ? key.rateLimits : policy.rateLimits;
  const credits = key.credits !== null;
  return rateLimits.length > 0 || credits ? { rateLimits, credits } : undefined;
}

export type UsageOutcome =
  | { code: "VALID"; remaining: number; resetTimeMs: number | null }
  | { code: "RATE_LIMITED" | "USAGE_EXCEEDED"; remaining: number; resetTimeMs: number | null };

/** The store's side of usage limits (storage/repositories/usage.ts). */
export interface UsageStore {
  lease(keyId: string, want: number, now: Date): Promise<CreditLease | undefined>;
  giveBack(keyId: string, epoch: number, amount: number): Promise<void>;
  addRateCounts(counts: readonly RateCount[]): Promise<number[]>;
  dropOldWindows(now: Date): Promise<void>;
}

export interface UsageSettings {
  /** How often each replica adds its counts to the shared rate windows and reads the totals. */
  syncMs: number;
  /** The most credits one lease takes (it bounds how stale `remaining` reads, and what a crash loses). */
  leaseSize: number;
  /** The most credits one lease of a hot key may grow to (it bounds what a crash loses and how stale `remaining` reads). */
  leaseMaxSize: number;
  /** How long a replica keeps unused leased credits before giving them back. */
  leaseHoldMs: number;
  /** How long a hot key's lease should last at its pace (LEASE_TARGET_MS; tests stretch it). */
  leaseTargetMs?: number;
}

export const DEFAULT_USAGE_SETTINGS: UsageSettings = { syncMs: 200, leaseSize: 10, leaseMaxSize: 200, leaseHoldMs: 2_000 };

/**
 * How long one lease of a hot key should last at its measured pace. 100 ms
 * makes a hot key's store writes ~10/s per replica whatever its rate, while
 * keeping a lease small next to `leaseHoldMs`, so credits a replica holds and
 * no longer needs go back soon.
 */
export const LEASE_TARGET_MS = 100;

/** One rate limit of one key, as this replica knows it. */
interface Window {
  readonly keyId: string;
  readonly periodMs: number;
  /** Start of the current fixed window (ms since the epoch). */
  start: number;
  /** Every replica's checks in the current window, as of the last sync (this replica's included). */
  shared: number;
  /** This replica's checks in the current window not yet in `shared`. */
  local: number;
  /** Of `local`, those sent in the sync under way. */
  sending: number;
  /** The previous window's total. */
  previous: number;
  /** This replica's checks in the previous window never sent (the window rolled first). */
  previousLocal: number;
  lastUsed: number;
}

/** Counts of one window sent in a sync, to settle when the store answers. */
interface Sent {
  w: Window;
  start: number;
  previous: boolean;
  n: number;
}

/** This replica's lease on one key's credits. */
interface Credit {
  epoch: number;
  /** Leased and not yet spent. */
  left: number;
  /** `left` just after the last lease arrived: what was spent since measures the key's pace. */
  leftAtLease: number;
  /** The checker's clock (ms) when the last lease arrived: the pace is judged on the clock checks are judged on. */
  paceSince: number;
  /** How many credits the next lease asks for (leaseSize up to leaseMaxSize). */
  size: number;
  /** The pool after the last lease: what the other replicas could still lease then. */
  pool: number;
  /** performance.now() when the lease was asked for: it is given back `leaseHoldMs` later. */
  leasedAt: number;
  /** When the pool is next refilled (ms since the epoch); null = never. */
  nextRefill: number | null;
  /** A lease under way: checks of the key wait for it rather than ask for their own. */
  pending: Promise<void> | undefined;
  /** A lease taken ahead, while this one still has credits: checks go on spending meanwhile. */
  topUp: Promise<void> | undefined;
}

export class UsageLimiter {
  /** Each key's windows, one per rate limit period (a key has at most five). */
  private readonly windows = new Map<string, Window[]>();
  private readonly credits = new Map<string, Credit>();
  private readonly timer: NodeJS.Timeout;
  private syncing: Promise<void> = Promise.resolve();
  private lastCleanup = 0;

  constructor(
    private readonly store: UsageStore,
    private readonly settings: UsageSettings,
    private readonly onError: (error: unknown) => void,
    /** The checker's clock: windows are judged on it when checks count and when counts are shared. */
    private readonly now: () => Date = () => new Date(),
  ) {
    this.timer = setInterval(() => void this.sync(), settings.syncMs);
    this.timer.unref();
  }

  /**
   * Admits one check of a key with limits, spending `cost` credits (undefined:
   * 1). Synchronous unless a credit lease must be fetched.
   */
  admit(keyId: string, limits: EffectiveLimits, cost: number | undefined, now: Date): UsageOutcome | Promise<UsageOutcome> {
    let rate: UsageOutcome | undefined;
    if (limits.rateLimits.length > 0) {
      rate = this.admitRate(keyId, limits.rateLimits, now.getTime());
      if (rate.code !== "VALID") return rate;
    }
    if (!limits.credits) return rate!;
    return this.spend(keyId, cost ?? 1, now);
  }

  // ---- rate limits --------------------------------------------------------

  private window(keys: Window[], keyId: string, periodMs: number, nowMs: number): Window {
    const start = nowMs - (nowMs % periodMs);
    let w: Window | undefined;
    for (const candidate of keys) if (candidate.periodMs === periodMs) w = candidate;
    if (!w) {
      w = { keyId, periodMs, start, shared: 0, local: 0, sending: 0, previous: 0, previousLocal: 0, lastUsed: nowMs };
      keys.push(w);
    } else if (w.start !== start) {
      // The window rolled: what it counted becomes the previous window (if it is the one just before).
      const adjacent = start - w.start === periodMs;
      w.previous = adjacent ? w.shared + w.local : 0;
      w.previousLocal = adjacent ? w.local - w.sending : 0;
      w.start = start;
      w.shared = 0;
      w.local = 0;
      w.sending = 0;
    }
    w.lastUsed = nowMs;
    return w;
  }

  /** The sliding-window estimate of checks in the last period. */
  private static estimate(w: Window, nowMs: number): number {
    return w.previous * (1 - (nowMs - w.start) / w.periodMs) + w.shared + w.local;
  }

  private admitRate(keyId: string, limits: readonly RateLimitRecord[], nowMs: number): UsageOutcome {
    let keys = this.windows.get(keyId);
    if (!keys) this.windows.set(keyId, (keys = []));
    let remaining = Infinity;
    let resetMs = 0;
    // All limits must admit the check before any counts it.
    for (const limit of limits) {
      const w = this.window(keys, keyId, limit.periodMs, nowMs);
      const estimate = UsageLimiter.estimate(w, nowMs);
      if (estimate + 1 > limit.limit) return { code: "RATE_LIMITED", remaining: 0, resetTimeMs: UsageLimiter.admitsAgainAt(w, limit.limit) };
      const left = Math.floor(limit.limit - estimate - 1);
      if (left < remaining) {
        remaining = left;
        resetMs = w.start + w.periodMs;
      }
    }
    for (const limit of limits) for (const w of keys) if (w.periodMs === limit.periodMs) w.local++;
    return { code: "VALID", remaining, resetTimeMs: resetMs };
  }

  /** When the estimate falls low enough to admit one more check, if no other check comes. */
  private static admitsAgainAt(w: Window, limit: number): number {
    const current = w.shared + w.local;
    const { start, periodMs } = w;
    if (current + 1 <= limit && w.previous > 0) {
      // Within this window, as the previous window's weight shrinks.
      return Math.ceil(start + periodMs * (1 - (limit - 1 - current) / w.previous));
    }
    // In the next window, where this one is the previous.
    return Math.ceil(start + periodMs + Math.max(0, periodMs * (1 - (limit - 1) / current)));
  }

  /** Adds this replica's new counts to the shared windows and reads every replica's totals. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncOnce());
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const nowMs = this.now().getTime();
    const counts: RateCount[] = [];
    const sent: Sent[] = [];
    for (const [keyId, keys] of this.windows) {
      // A window idle for two periods says nothing any more.
      const live = keys.filter((w) => nowMs - w.lastUsed <= 2 * w.periodMs || w.local > 0 || w.previousLocal > 0);
      if (live.length === 0) this.windows.delete(keyId);
      else if (live.length < keys.length) this.windows.set(keyId, live);
      for (const w of live) this.collect(w, counts, sent);
    }
    try {
      if (counts.length > 0) {
        const totals = await this.store.addRateCounts(counts);
        sent.forEach(({ w, start, previous, n }, i) => {
          if (w.start !== start) return; // rolled meanwhile: the roll already counted these locally
          if (previous) w.previous = Math.max(w.previous, totals[i]!);
          else {
            w.local -= n;
            w.sending -= n;
            w.shared = totals[i]!;
          }
        });
      }
      if (nowMs - this.lastCleanup > 60_000) {
        this.lastCleanup = nowMs;
        await this.store.dropOldWindows(new Date(nowMs));
      }
    } catch (error) {
      // Counts not confirmed stay local (sent again next time: the totals may count them twice, which only errs strict).
      for (const { w, start, previous, n } of sent) {
        if (w.start !== start) continue;
        if (previous) w.previousLocal += n;
        else w.sending -= n;
      }
      this.onError(error);
    }
    await this.giveBackIdleLeases();
  }

  /** Adds a window's counts to a sync batch. */
  private collect(w: Window, counts: RateCount[], sent: Sent[]): void {
    if (w.previousLocal > 0) {
      counts.push({ keyId: w.keyId, periodMs: w.periodMs, windowStart: w.start - w.periodMs, add: w.previousLocal });
      sent.push({ w, start: w.start, previous: true, n: w.previousLocal });
      w.previousLocal = 0;
    }
    const n = w.local - w.sending;
    counts.push({ keyId: w.keyId, periodMs: w.periodMs, windowStart: w.start, add: n });
    sent.push({ w, start: w.start, previous: false, n });
    w.sending += n;
  }

  // ---- credits ------------------------------------------------------------

  private spend(keyId: string, cost: number, now: Date): UsageOutcome | Promise<UsageOutcome> {
    const c = this.credits.get(keyId);
    // A check with cost 0 reads without spending, but still needs a credit left.
    if (c && c.pending === undefined && this.usable(c, now) && c.left >= Math.max(cost, 1)) return this.spendHeld(keyId, c, cost, now);
    return this.spendSlowly(keyId, cost, now);
  }

  /** Spends from what this replica holds (it has at least `cost`, and at least one credit). */
  private spendHeld(keyId: string, c: Credit, cost: number, now: Date): UsageOutcome {
    c.left -= cost;
    // Half a lease left: take the next one now, so that checks seldom wait for the store.
    if (c.left * 2 < c.size && c.pool > 0 && c.topUp === undefined && c.pending === undefined) this.takeAhead(keyId, c, now);
    return { code: "VALID", remaining: c.left + c.pool, resetTimeMs: c.nextRefill };
  }

  private takeAhead(keyId: string, c: Credit, now: Date): void {
    c.size = this.sizeForPace(c, now.getTime());
    const want = Math.min(c.size, Math.max(1, Math.ceil(c.pool / 4)));
    c.topUp = this.store
      .lease(keyId, want, now)
      .then((lease) => {
        if (this.credits.get(keyId) !== c) {
          // Forgotten meanwhile (the key changed): these go straight back, into their own pool only.
          if (lease && lease.granted > 0) return this.store.giveBack(keyId, lease.epoch, lease.granted);
          return;
        }
        if (!lease) {
          this.credits.delete(keyId);
          return;
        }
        this.absorb(c, lease, this.now().getTime());
      })
      .catch(this.onError)
      .finally(() => {
        c.topUp = undefined;
      });
  }

  /**
   * The lease that lasts about LEASE_TARGET_MS at the pace the key spent the
   * last one, within [leaseSize, leaseMaxSize]. Measured when half a lease is
   * spent, so a key that slows down shrinks back at its next lease.
   */
  private sizeForPace(c: Credit, nowMs: number): number {
    const { leaseSize, leaseMaxSize, leaseTargetMs = LEASE_TARGET_MS } = this.settings;
    const spent = c.leftAtLease - c.left;
    const elapsedMs = Math.max(nowMs - c.paceSince, 1);
    const size = Math.ceil((spent * leaseTargetMs) / elapsedMs);
    return Math.min(Math.max(size, leaseSize), leaseMaxSize);
  }

  /** Adds a lease to what is held; credits of an older pool (set or refilled since) are dropped. */
  private absorb(c: Credit, lease: CreditLease, nowMs: number): void {
    if (c.epoch !== lease.epoch) c.left = 0;
    c.epoch = lease.epoch;
    c.left += lease.granted;
    c.leftAtLease = c.left;
    c.paceSince = nowMs;
    c.pool = lease.poolAfter;
    c.leasedAt = performance.now();
    c.nextRefill = lease.nextRefill === null ? null : lease.nextRefill.getTime();
  }

  /** A lease is spent only before the pool it came from is refilled (its credits belong to that interval). */
  private usable(c: Credit, now: Date): boolean {
    return c.nextRefill === null || now.getTime() < c.nextRefill;
  }

  private async spendSlowly(keyId: string, cost: number, now: Date): Promise<UsageOutcome> {
    let c = this.credits.get(keyId);
    if (c?.pending || c?.topUp) {
      await (c.pending ?? c.topUp);
      c = this.credits.get(keyId);
      if (c && this.usable(c, now)) {
        // Checks that waited spend as the fast path does, taking the next lease ahead too:
        // under a burst, most checks of a hot key arrive while a lease is under way.
        if (c.left >= Math.max(cost, 1)) return this.spendHeld(keyId, c, cost, now);
        // The lease just taken emptied the pool: no need for another round trip to hear so.
        if (c.pool === 0) return { code: "USAGE_EXCEEDED", remaining: c.left, resetTimeMs: c.nextRefill };
      }
      // Another check is fetching again, or the lease went: take a turn.
      return this.spendSlowly(keyId, cost, now);
    }
    const held = c && this.usable(c, now) ? c : undefined;
    const left = held?.left ?? 0;
    // Near the end of the pool, take less: leftovers held by one replica would turn others away.
    const size = held ? (held.size = this.sizeForPace(held, now.getTime())) : this.settings.leaseSize;
    const known = held ? Math.ceil(held.pool / 4) : size;
    const want = Math.max(Math.max(cost, 1) - left, Math.min(size, Math.max(1, known)));
    const entry: Credit = held ?? { epoch: 0, left: 0, leftAtLease: 0, paceSince: 0, size, pool: 0, leasedAt: 0, nextRefill: null, pending: undefined, topUp: undefined };
    let lease: CreditLease | undefined;
    const pending = this.store.lease(keyId, want, now).then((l) => {
      lease = l;
    });
    entry.pending = pending;
    this.credits.set(keyId, entry);
    try {
      await pending;
    } finally {
      entry.pending = undefined;
    }
    if (!lease) {
      // The key lost its credits meanwhile (cleared by an admin): nothing to spend, nothing to limit.
      this.credits.delete(keyId);
      return { code: "VALID", remaining: 0, resetTimeMs: null };
    }
    this.absorb(entry, lease, now.getTime());
    if (this.credits.get(keyId) !== entry) this.credits.set(keyId, entry);
    if (entry.left < Math.max(cost, 1)) return { code: "USAGE_EXCEEDED", remaining: entry.left + entry.pool, resetTimeMs: entry.nextRefill };
    entry.left -= cost;
    return { code: "VALID", remaining: entry.left + entry.pool, resetTimeMs: entry.nextRefill };
  }

  /** The key changed (credits set, cleared, or the key deleted): its lease is returned (into the same pool only) and forgotten. */
  forgetKey(keyId: string): void {
    const c = this.credits.get(keyId);
    // A lease being taken for a waiting check is left to finish (it is at most one lease of the old pool);
    // one taken ahead is given back when it arrives (takeAhead).
    if (!c || c.pending) return;
    this.credits.delete(keyId);
    if (c.left > 0) this.store.giveBack(keyId, c.epoch, c.left).catch(this.onError);
  }

  private async giveBackIdleLeases(): Promise<void> {
    const cutoff = performance.now() - this.settings.leaseHoldMs;
    for (const [keyId, c] of this.credits) {
      if (c.pending || c.topUp || c.leasedAt > cutoff) continue;
      this.credits.delete(keyId);
      if (c.left > 0) await this.store.giveBack(keyId, c.epoch, c.left).catch(this.onError);
    }
  }

  /** Stops the sync, sends the last counts and gives back every unused credit. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sync();
    for (const c of this.credits.values()) c.leasedAt = -Infinity;
    await Promise.all([...this.credits.values()].flatMap((c) => [c.pending, c.topUp]));
    await this.giveBackIdleLeases();
  }
}
