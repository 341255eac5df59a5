// argon2 runs on libuv's thread pool, which DNS, file I/O and PGlite share,
// and each verification costs ~16 ms of CPU. A flood of forged secrets must
// not take the machine over:
// - at most `maxInFlight` verifications run at once, at most `maxQueued` wait;
// - verifications for one key id run one at a time, at most `maxQueuedPerKey`
//   wait, and after a failed one the next for that id waits `failureCooldownMs`,
//   so forged secrets for a known id cost little CPU and mostly wait;
// - the excess is refused at once (RESOURCE_EXHAUSTED) instead of piling up.
// Warm checks never come here: they are answered from the cache.
import { ResourceExhaustedError } from "./errors.js";

export interface VerifyLimits {
  maxInFlight: number;
  maxQueued: number;
  maxQueuedPerKey: number;
  failureCooldownMs: number;
}

interface KeyLane {
  tail: Promise<unknown>;
  waiting: number;
  coolUntil: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const busy = () => new ResourceExhaustedError("too many key verifications in progress; retry shortly");

export class VerifyLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly lanes = new Map<string, KeyLane>();
  /** Verifications run so far (a monotonic count, for metrics and tests). */
  completed = 0;

  constructor(
    private readonly settings: VerifyLimits,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `verify` (true = the secret matched) for `keyId`, within both budgets. */
  run(keyId: string, verify: () => Promise<boolean>): Promise<boolean> {
    let lane = this.lanes.get(keyId);
    if (!lane) this.lanes.set(keyId, (lane = { tail: Promise.resolve(), waiting: 0, coolUntil: 0 }));
    if (lane.waiting > this.settings.maxQueuedPerKey) return Promise.reject(busy());
    const own = lane;
    own.waiting++;
    const turn = own.tail.then(async () => {
      try {
        const wait = own.coolUntil - this.nowMs();
        if (wait > 0) await sleep(wait);
        const ok = await this.slot(verify);
        if (!ok) own.coolUntil = this.nowMs() + this.settings.failureCooldownMs;
        return ok;
      } finally {
        own.waiting--;
        if (own.waiting === 0 && own.coolUntil <= this.nowMs() && this.lanes.get(keyId) === own) this.lanes.delete(keyId);
      }
    });
    own.tail = turn.catch(() => {});
    return turn;
  }

  private async slot(verify: () => Promise<boolean>): Promise<boolean> {
    if (this.running >= this.settings.maxInFlight) {
      if (this.waiting.length >= this.settings.maxQueued) throw busy();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await verify();
    } finally {
      this.completed++;
      // Hand the slot straight to the next waiter; otherwise free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
