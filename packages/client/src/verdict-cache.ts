// A short-lived, bounded cache of VALID verdicts only, so a service's repeated
// checks of the same key for the same request cost a hash and a map lookup.
// Keyed by a SHA-256 digest of the key and everything else the verdict
// depends on (permissions, method, path, client IP); the raw key is never
// kept. A revoked, retired or narrowed key stops being accepted at most `ttlMs`
// after Keyward itself stops accepting it. Denials are never cached: a key
// granted a permission a moment ago works at once.
import { createHash } from "node:crypto";
import type { CheckKeyRequest } from "./wire.js";
import type { VerifiedKey } from "./verified-key.js";

export interface VerdictCacheOptions {
  /** How long a VALID verdict is reused, in ms: the bound on revocation lag this cache adds. Default 1000. */
  ttlMs?: number;
  /** At most this many verdicts are kept; the oldest goes first. Default 10000. */
  maxEntries?: number;
}

export const DEFAULT_TTL_MS = 1000;
export const MAX_TTL_MS = 2000;

export class VerdictCache {
  readonly ttlMs: number;
  readonly maxEntries: number;
  // A Map iterates in insertion order, so the first entry is the oldest.
  private readonly entries = new Map<string, { key: VerifiedKey; until: number }>();

  constructor(options: VerdictCacheOptions = {}, private readonly now: () => number = Date.now) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.maxEntries = options.maxEntries ?? 10_000;
    if (!(this.ttlMs >= 0 && this.ttlMs <= MAX_TTL_MS)) throw new RangeError(`cache ttlMs must be between 0 and ${MAX_TTL_MS} (revocations must take effect quickly)`);
    if (!(this.maxEntries >= 0)) throw new RangeError("cache maxEntries must not be negative");
  }

  static digest(r: CheckKeyRequest): string {
    // NUL cannot appear in a header value, so the parts cannot run into each other.
    return createHash("sha256").update(`${r.key}\0${r.permissions.join(",")}\0${r.method}\0${r.path}\0${r.clientIp}`).digest("base64");
  }

  get(digest: string): VerifiedKey | undefined {
    const hit = this.entries.get(digest);
    if (!hit) return undefined;
    if (hit.until <= this.now() || hit.key.expireTimeMs <= this.now()) {
      this.entries.delete(digest);
      return undefined;
    }
    return hit.key;
  }

  set(digest: string, key: VerifiedKey): void {
    if (this.ttlMs === 0 || this.maxEntries === 0) return;
    this.entries.delete(digest);
    this.entries.set(digest, { key, until: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
