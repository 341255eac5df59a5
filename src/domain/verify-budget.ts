// argon2 runs on libuv's thread pool, which DNS, file I/O and PGlite share.
// A flood of forged secrets must not take it over: at most `maxInFlight`
// verifications run at once, at most `maxQueued` wait, and the excess is
// refused at once (RESOURCE_EXHAUSTED) instead of piling up.
import { ResourceExhaustedError } from "./errors.js";

export interface BudgetSettings {
  maxInFlight: number;
  maxQueued: number;
}

export class VerifyBudget {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Verifications run so far (a monotonic count, for metrics and tests). */
  completed = 0;

  constructor(private readonly settings: BudgetSettings) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.settings.maxInFlight) {
      if (this.waiting.length >= this.settings.maxQueued) {
        throw new ResourceExhaustedError("too many key verifications in progress; retry shortly");
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      this.completed++;
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter; otherwise free it.
      if (next) next();
      else this.running--;
    }
  }
}
