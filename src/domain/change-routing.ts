// What a committed change makes stale in this replica's memory, and what the
// caches do while the change feed is down. The rules live here, in one place;
// app.ts only connects the store's feed (and its own commits) to them.
import type { Change } from "../storage/changes.js";
import type { RegisteredPermissionCache } from "./registered-permission-cache.js";
import type { UsageLimiter } from "./usage-limits.js";
import type { VerificationCache } from "./verification-cache.js";

export class ChangeRouting {
  constructor(
    private readonly cache: VerificationCache,
    private readonly usage: UsageLimiter,
    private readonly registered: RegisteredPermissionCache,
    /** Whether notifications flow now: a registry change may be cached again only then. */
    private readonly feedUp: () => boolean,
  ) {}

  /** A change another replica (or this one) committed. */
  changed(change: Change): void {
    if (change.kind === "api_key") {
      // The cached key is stale, and its leased credits belong to the old pool.
      this.cache.invalidateKey(change.id);
      this.usage.forgetKey(change.id);
    } else if (change.kind === "policy") this.cache.invalidatePolicy(change.id);
    else this.registered.reset(this.feedUp());
  }

  /**
   * The caches are used only while change notifications flow: when the feed is
   * down, every check reads the store (current by definition) until it is back.
   */
  feedLost(): void {
    this.cache.reset(false);
    this.registered.reset(false);
  }

  /** Notifications flow again: start caching afresh (anything missed while down is gone). */
  feedRestored(): void {
    this.cache.reset(true);
    this.registered.reset(true);
  }
}
