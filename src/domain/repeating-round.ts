// A background job run every interval in this process: the lifecycle rounds,
// the webhook dispatcher's polls, the last-use and usage-count flushes. Rounds
// never overlap (the next is timed from the end of the last), the timer never
// keeps the process alive, and a run of failures is reported once, not once per
// round while the store is down. A round can be asked for sooner: at once
// (wake) or, from inside a round, within some time (within).
export class RepeatingRound {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private running = false;
  /** When the round running ends, the next starts after this long. */
  private nextInMs: number;
  private started = false;
  private closed = false;
  private failing = false;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => Promise<unknown>,
    /** The first failure of each run of failures. */
    private readonly failed: (error: unknown) => void,
  ) {
    this.nextInMs = intervalMs;
  }

  start(): void {
    this.started = true;
    this.schedule(this.intervalMs);
  }

  /** Runs a round now, or right after the one running, instead of at its time (once started). */
  wake(): void {
    if (!this.started) return;
    if (this.running) this.within(0);
    else this.schedule(0);
  }

  /** Called during a round: the next one starts within `ms` of its end (sooner than the interval, never later). */
  within(ms: number): void {
    this.nextInMs = Math.min(this.nextInMs, Math.max(0, ms));
  }

  /** Stops the timer and waits for a round in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.round;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.runRound(), delayMs);
    this.timer.unref();
  }

  private runRound(): void {
    this.running = true;
    this.nextInMs = this.intervalMs;
    this.round = this.run()
      .then(
        () => {
          this.failing = false;
        },
        (error: unknown) => {
          if (!this.failing) this.failed(error);
          this.failing = true;
        },
      )
      .finally(() => {
        this.running = false;
        this.schedule(this.nextInMs);
      });
  }
}
