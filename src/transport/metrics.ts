// Prometheus metrics at GET /metrics (prom-client). Labels are bounded: no
// key id, no path, never a secret.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CacheStats } from "../domain/verification-cache.js";

export interface MetricSources {
  cache: { readonly stats: CacheStats; readonly verifiedEntries: number; readonly failedEntries: number };
  verifyLimiter: { readonly inFlight: number; readonly queued: number; readonly completed: number };
  feedUp: () => boolean;
  usage: { readonly dropped: number };
}

/** A counter that follows a monotonic number kept elsewhere. */
function follow(counter: Counter, read: () => number): () => void {
  let seen = 0;
  return () => {
    const now = read();
    if (now > seen) counter.inc(now - seen);
    seen = now;
  };
}

/** A gauge (no labels) whose value is read from where it is kept at each scrape. */
function readAtScrape(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

export class Metrics {
  readonly registry = new Registry();

  readonly rpcDuration = new Histogram({
    name: "keyward_rpc_duration_seconds",
    help: "RPC latency by procedure and result code",
    labelNames: ["procedure", "code"] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly checks = new Counter({
    name: "keyward_checks_total",
    help: "CheckKey verdicts by code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });

  readonly notificationLag = new Histogram({
    name: "keyward_change_notification_lag_seconds",
    help: "Time from a change's commit on any replica to its notification here",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });

  constructor(sources: MetricSources) {
    const hits = new Counter({ name: "keyward_cache_hits_total", help: "Verification cache hits", registers: [this.registry] });
    const misses = new Counter({ name: "keyward_cache_misses_total", help: "Verification cache misses", registers: [this.registry] });
    const syncHits = follow(hits, () => sources.cache.stats.hits);
    const syncMisses = follow(misses, () => sources.cache.stats.misses);
    const verifications = new Counter({ name: "keyward_argon2_verifications_total", help: "argon2 verifications run", registers: [this.registry] });
    const syncVerifications = follow(verifications, () => sources.verifyLimiter.completed);
    new Gauge({
      name: "keyward_cache_entries",
      help: "Entries in the verification cache: verified keys, and failed verifications (bounded apart)",
      labelNames: ["kind"] as const,
      registers: [this.registry],
      collect() {
        syncHits();
        syncMisses();
        this.set({ kind: "verified" }, sources.cache.verifiedEntries);
        this.set({ kind: "failed" }, sources.cache.failedEntries);
      },
    });
    readAtScrape(this.registry, "keyward_argon2_in_flight", "argon2 verifications running", () => {
      syncVerifications();
      return sources.verifyLimiter.inFlight;
    });
    readAtScrape(this.registry, "keyward_argon2_queued", "argon2 verifications waiting for a slot", () => sources.verifyLimiter.queued);
    readAtScrape(this.registry, "keyward_change_feed_up", "1 while change notifications are received (the cache is in use), else 0", () =>
      sources.feedUp() ? 1 : 0,
    );
    const usageDropped = new Counter({
      name: "keyward_usage_rollup_dropped_total",
      help: "Checks not counted in the hourly usage rollups because their in-memory bound was reached",
      registers: [this.registry],
      collect: () => syncUsageDropped(),
    });
    const syncUsageDropped = follow(usageDropped, () => sources.usage.dropped);
    collectDefaultMetrics({ register: this.registry, prefix: "keyward_" });
  }
}
