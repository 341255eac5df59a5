// A background job run every interval in this process: the lifecycle rounds,
// the webhook dispatcher's polls, the last-use and usage-count flushes. Rounds
// never overlap (the next is timed from the end of the last), the timer never
// keeps the process alive, and a run of failures is reported once, not once per
// round while the store is down.
export class RepeatingRound {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private closed = false;
  private failing = false;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => Promise<unknown>,
    /** The first failure of each run of failures. */
    private readonly failed: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
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
        .finally(() => this.start());
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a round in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.round;
  }
}
