// A per-client-address rate limit for calls that take no key (revoke by
// possession), so they serve neither as an oracle nor as a way to make Keyward
// run argon2 at an attacker's pace. Per replica and in memory: it paces each
// address, while the argon2 verify limiter (verify-limiter.ts) bounds the whole process.
//
// A token bucket per address: `limit` calls at once, refilled evenly over
// `periodMs`. IPv6 clients are counted per /64 — one subscriber's usual
// allocation — so cycling through the addresses of one network gains nothing.
// Memory is bounded: at most `maxClients` buckets (least recently used out
// first), and a bucket idle for a whole period is full again, so it is dropped.
import { LRUCache } from "lru-cache";
import { formatAddress, formatCidr, parseAddress } from "./subnets.js";

export interface ClientRateLimitSettings {
  /** Calls an address may make at once, and per period. */
  limit: number;
  periodMs: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last worked out (ms, monotonic). */
  at: number;
}

/** Buckets kept by default: each is a few dozen bytes, so about ten megabytes at most. */
export const DEFAULT_MAX_CLIENTS = 100_000;

/** The address a limit counts against: IPv4 as it is, IPv6 as its /64, anything unparsable as itself. */
export function clientGroup(clientIp: string): string {
  const address = parseAddress(clientIp);
  if (address === undefined) return clientIp;
  if (address.family === 4) return formatAddress(address);
  return formatCidr({ family: 6, value: (address.value >> 64n) << 64n, prefix: 64 });
}

export class ClientRateLimit {
  /** Made at the first call: lru-cache sizes its arrays for `maxClients` up front, tens of milliseconds a start would spend for a rare RPC. */
  private bucketsMade: LRUCache<string, Bucket> | undefined;
  private readonly perMs: number;

  constructor(
    private readonly settings: ClientRateLimitSettings,
    private readonly maxClients = DEFAULT_MAX_CLIENTS,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.perMs = settings.limit / settings.periodMs;
  }

  private get buckets(): LRUCache<string, Bucket> {
    return (this.bucketsMade ??= new LRUCache<string, Bucket>({ max: this.maxClients, ttl: this.settings.periodMs, ttlResolution: 0, perf: { now: this.nowMs } }));
  }

  /** Buckets held now (for tests of the bound). */
  get size(): number {
    return this.bucketsMade?.size ?? 0;
  }

  /** Takes one call from the address's allowance; false when it has none left. */
  take(clientIp: string): boolean {
    const group = clientGroup(clientIp);
    const now = this.nowMs();
    const bucket = this.buckets.get(group) ?? { tokens: this.settings.limit, at: now };
    const tokens = Math.min(this.settings.limit, bucket.tokens + (now - bucket.at) * this.perMs);
    if (tokens < 1) return false;
    // Set anew on every call: the entry's age (its TTL) restarts with it.
    this.buckets.set(group, { tokens: tokens - 1, at: now });
    return true;
  }
}
