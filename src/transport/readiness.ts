/** Whether Keyward should receive traffic: not draining, and the store answers. */
export class Readiness {
  private draining = false;

  constructor(
    private readonly ping: () => Promise<void>,
    private readonly timeoutMs = 2_000,
  ) {}

  /** From SIGTERM on, health says NOT_SERVING so load balancers move away. */
  markDraining(): void {
    this.draining = true;
  }

  async isReady(): Promise<boolean> {
    if (this.draining) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("ping timed out")), this.timeoutMs);
    });
    try {
      await Promise.race([this.ping(), timeout]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
