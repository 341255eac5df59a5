/**
 * Whether Keyward should receive traffic: not draining, and the store
 * answered recently. Health is polled often (load balancers, orchestrators),
 * so the store is pinged at most once per `maxAgeMs`; callers in between get
 * the last answer.
 */
export class Readiness {
  private draining = false;
  private last: { ready: boolean; at: number } | undefined;
  private probing: Promise<boolean> | undefined;

  constructor(
    private readonly ping: () => Promise<void>,
    private readonly maxAgeMs = 1_000,
    private readonly timeoutMs = 2_000,
  ) {}

  /** From SIGTERM on, health says NOT_SERVING so load balancers move away. */
  markDraining(): void {
    this.draining = true;
  }

  async isReady(): Promise<boolean> {
    if (this.draining) return false;
    if (this.last && performance.now() - this.last.at < this.maxAgeMs) return this.last.ready;
    this.probing ??= this.probe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async probe(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("ping timed out")), this.timeoutMs);
    });
    let ready: boolean;
    try {
      await Promise.race([this.ping(), timeout]);
      ready = true;
    } catch {
      ready = false;
    } finally {
      clearTimeout(timer);
    }
    this.last = { ready, at: performance.now() };
    return ready;
  }
}
