// Last use of each key, gathered in memory and written in one statement per
// interval (app.ts's flush round, shared with the usage counts): the hot path
// never waits on, or adds, an UPDATE per check.
import type { Store } from "../storage/store.js";

export class LastUseRecorder {
  private pending = new Map<string, Date>();
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly onError: (error: unknown) => void,
  ) {}

  touch(keyId: string, at: Date): void {
    const seen = this.pending.get(keyId);
    if (!seen || seen < at) this.pending.set(keyId, at);
  }

  /** Writes what was gathered since the last flush; on failure it is kept for the next one. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.store.apiKeys.touchLastUsed([...batch].map(([id, time]) => ({ id, time })));
      } catch (error) {
        for (const [id, time] of batch) this.touch(id, time);
        this.onError(error);
      }
    });
    return this.flushing;
  }
}
