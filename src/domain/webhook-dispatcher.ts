// Sends the outbox. Every replica runs one; each round claims due deliveries
// (storage marks them taken, skipping rows another replica is claiming), sends
// them signed, and records the outcome: delivered on a 2xx, else another
// attempt after the retry schedule's next delay (with jitter, so endpoints that
// fail together do not retry in lockstep), and failed once the schedule is spent.
import { setMaxListeners } from "node:events";
import type { AttemptOutcome } from "../storage/repositories/webhooks.js";
import type { ClaimedDelivery } from "../storage/records.js";
import type { Store } from "../storage/store.js";
import { auditEach, target } from "./audit.js";
import { SYSTEM } from "./principal.js";
import { RepeatingRound } from "./repeating-round.js";
import { signedHeaders } from "./webhook-signing.js";

/** Sends one POST; resolves with the HTTP status, rejects when none came (refused, timed out, blocked, or `signal` aborted it). */
export type WebhookSend = (url: string, headers: Record<string, string>, body: string, signal?: AbortSignal) => Promise<number>;

export interface DispatcherSettings {
  /** How often a replica looks for due deliveries (besides the rounds its own queued deliveries and retries start). */
  readonly pollMs: number;
  /** The longest one attempt may take (the sender enforces it; claims outlast it). */
  readonly timeoutMs: number;
  /** The delay before each retry: after attempt n, retryScheduleMs[n-1]; past the end, the delivery has failed. */
  readonly retryScheduleMs: readonly number[];
  /** How long delivered and failed deliveries stay listed. */
  readonly retentionMs: number;
  /** An endpoint whose deliveries have all failed for this long (none delivered since the first failure) is disabled. */
  readonly disableAfterMs: number;
}

/** How many deliveries a round claims; the rest wait for the next round (or another replica). */
const BATCH = 20;
/** A bound on what an error stores: enough to act on, not a receiver's whole error page. */
const MAX_ERROR_LENGTH = 300;
/** How often finished deliveries past their retention are deleted (more often when the retention is shorter). */
const PRUNE_EVERY_MS = 3_600_000;
/**
 * How often endpoints failing past KEYWARD_WEBHOOK_DISABLE_AFTER (days) are
 * looked for: a write transaction in every poll would be most of an idle
 * replica's work on its store.
 */
const DISABLE_CHECK_EVERY_MS = 60_000;

/** Whether a job last run at `lastMs` is due again; a clock set back (NTP, a test) makes it due at once, not only once it catches up. */
const due = (lastMs: number, now: Date, everyMs: number): boolean => now.getTime() - lastMs >= everyMs || now.getTime() < lastMs;

/** `delay` ± 20%, so retries of many deliveries spread out. */
const jitter = (delayMs: number): number => Math.round(delayMs * (0.8 + Math.random() * 0.4));

export class WebhookDispatcher {
  private readonly rounds: RepeatingRound;
  private lastPrune = 0;
  private lastDisableCheck = 0;
  /** Aborts the attempts in flight when Keyward stops, so a slow receiver cannot hold up the shutdown. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly send: WebhookSend,
    private readonly settings: DispatcherSettings,
    private readonly now: () => Date,
    onError: (error: unknown) => void,
  ) {
    this.rounds = new RepeatingRound(settings.pollMs, () => this.runRound(), onError);
    // Each attempt in flight listens for the stop: a round has up to BATCH of
    // them, past Node's default of 10, which would log a leak warning that is none.
    setMaxListeners(BATCH, this.stopping.signal);
  }

  start(): void {
    this.rounds.start();
  }

  /** Deliveries were queued in this process: a round now sends them, instead of at the next poll. */
  wake(): void {
    this.rounds.wake();
  }

  /** One round: claim, send all claimed at once, record each outcome. Rounds never overlap. */
  async runRound(): Promise<void> {
    const now = this.now();
    // A claimed delivery is nobody else's until its attempt can no longer be running.
    const leaseUntil = new Date(now.getTime() + this.settings.timeoutMs + 30_000);
    const claimed = await this.store.webhooks.claimDue(now, leaseUntil, BATCH);
    await Promise.all(claimed.map((d) => this.attempt(d)));
    if (due(this.lastDisableCheck, now, DISABLE_CHECK_EVERY_MS)) {
      this.lastDisableCheck = now.getTime();
      await this.disableFailing(now);
    }
    if (due(this.lastPrune, now, Math.min(PRUNE_EVERY_MS, this.settings.retentionMs))) {
      this.lastPrune = now.getTime();
      await this.store.webhooks.pruneFinished(new Date(now.getTime() - this.settings.retentionMs));
    }
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    let statusCode = 0;
    let error = "";
    try {
      const secrets = d.previousSecret === null ? [d.secret] : [d.secret, d.previousSecret];
      statusCode = await this.send(d.url, signedHeaders(secrets, d.id, this.now(), d.body), d.body, this.stopping.signal);
      if (statusCode < 200 || statusCode > 299) error = `the endpoint answered HTTP ${statusCode}`;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const outcome = this.outcome(d.attempts, statusCode, error);
    await this.store.transaction((repos) => repos.webhooks.recordAttempt(d.id, d.attempts, outcome));
    // A retry due before the next poll is sent on time.
    if (outcome.kind === "retry") this.rounds.within(outcome.nextAttemptTime.getTime() - outcome.at.getTime());
  }

  /**
   * Disables the endpoints failing for longer than the setting: their pending
   * deliveries fail (a receiver that was down for days would rather not get a
   * backlog of stale events once enabled again; the delivery log lists them),
   * no new ones are queued, and each is audited as done by Keyward itself.
   */
  private async disableFailing(now: Date): Promise<void> {
    const failingBefore = new Date(now.getTime() - this.settings.disableAfterMs);
    await this.store.transaction(async (repos) => {
      const ids = await repos.webhooks.disableFailing(failingBefore, now);
      const entries = ids.map((id) => ({ action: "DisableFailingWebhookEndpoint", target: target.webhookEndpoint(id), changedFields: ["disable_time"] }));
      if (entries.length > 0) await auditEach(repos, SYSTEM, entries, now);
    });
  }

  private outcome(attempts: number, statusCode: number, error: string): AttemptOutcome {
    const at = this.now();
    if (error === "") return { kind: "delivered", statusCode, at };
    const bounded = error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error;
    const delay = this.settings.retryScheduleMs[attempts - 1];
    if (delay === undefined) return { kind: "failed", statusCode, error: bounded, at };
    return { kind: "retry", statusCode, error: bounded, nextAttemptTime: new Date(at.getTime() + jitter(delay)), at };
  }

  /** Stops polling, cuts short the attempts in flight (recorded as failed attempts, retried later) and waits for the round to end. */
  close(): Promise<void> {
    this.stopping.abort(new Error("Keyward stopped during the attempt"));
    return this.rounds.close();
  }
}
