// Configuration from the environment, checked once at start and frozen.
// A bad value stops Keyward with a message naming the variable.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { durationMs, UNIT_MS } from "./duration.js";
import { KEY_PREFIX_PATTERN } from "./domain/key-format.js";
import { publicKeysFromGitHubJson } from "./domain/leak-report-signature.js";
import { OWASP_COST, type HashCost } from "./domain/secret-hasher.js";
import type { StoreLocation } from "./storage/open.js";

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly store: StoreLocation;
  readonly bootstrapKeyFile: string | undefined;
  readonly maxKeyTtlMs: number;
  readonly keyPrefix: string;
  readonly hashCost: HashCost;
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
  readonly maxRotationOverlapMs: number;
  readonly trustedProxyHops: number;
  readonly lastUseFlushMs: number;
  /** How long hourly usage rollups are kept (domain/usage-rollups.ts). */
  readonly usageRetentionMs: number;
  /** Usage limits across replicas (domain/usage-limits.ts). */
  readonly usage: { readonly syncMs: number; readonly leaseSize: number; readonly leaseMaxSize: number; readonly leaseHoldMs: number; readonly leaseTargetMs?: number };
  readonly corsOrigins: readonly string[];
  /** Revocations by possession one client address may make per period (domain/client-rate-limit.ts). */
  readonly revokeRateLimit: { readonly limit: number; readonly periodMs: number };
  /** Webhooks (design §8): where they may go and how they are retried. */
  readonly webhooks: {
    readonly allowPrivate: boolean;
    readonly timeoutMs: number;
    readonly retryScheduleMs: readonly number[];
    readonly pollMs: number;
    readonly retentionMs: number;
    /** An endpoint failing this long without one delivery is disabled. */
    readonly disableAfterMs: number;
  };
  /** Key id → PEM public key of the secret scanners whose signed leak reports retire keys; undefined: leak reports are off. */
  readonly leakReportPublicKeys: Readonly<Record<string, string>> | undefined;
  /** Lifecycle rounds (domain/lifecycle.ts): expiry warnings, expiries, idle retirement. */
  readonly lifecycle: {
    readonly intervalMs: number;
    readonly expiryWarningMs: number;
    /** Undefined: keys are never retired for idleness. */
    readonly idleRetireAfterMs: number | undefined;
    readonly batchSize: number;
  };
  readonly cache: { readonly maxEntries: number; readonly ttlMs: number; readonly negativeMaxEntries: number; readonly negativeTtlMs: number };
  readonly connections: {
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly maxConnections: number;
    readonly maxConcurrentStreams: number;
  };
  readonly argon2Budget: {
    readonly maxInFlight: number;
    readonly maxQueued: number;
    readonly maxQueuedPerKey: number;
    readonly failureCooldownMs: number;
  };
}

export class ConfigError extends Error {
  constructor(variable: string, detail: string) {
    super(`${variable}: ${detail}`);
    this.name = "ConfigError";
  }
}

/** `500ms`, `30s`, `15m`, `12h`, `365d`: more than zero and at most `maxMs`. */
export function parseDurationMs(variable: string, value: string, maxMs: number): number {
  const ms = durationMs(value);
  if (ms === undefined) throw new ConfigError(variable, `"${value}" is not a duration such as 30s, 15m, 12h or 365d`);
  if (ms <= 0) throw new ConfigError(variable, "must be greater than zero");
  if (ms > maxMs) throw new ConfigError(variable, `must be at most ${describeMs(maxMs)}`);
  return ms;
}

const describeMs = (ms: number): string => (ms % UNIT_MS.d! === 0 ? `${ms / UNIT_MS.d!}d` : `${ms / UNIT_MS.s!}s`);

// Node timers cap at 2^31-1 ms (~24.8 days); dates need to stay representable.
const MAX_KEY_TTL_MS = 100 * 365 * UNIT_MS.d!;
const MAX_SHUTDOWN_GRACE_MS = 3_600_000;

function integer(variable: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    throw new ConfigError(variable, `"${value}" must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** `https://admin.example.com,https://tools.example.com`, or `*` for any origin. */
function corsOrigins(value: string | undefined): string[] {
  if (value === undefined) return [];
  const origins = value.split(",").map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError("KEYWARD_CORS_ORIGINS", `"${origin}" is not an origin such as https://admin.example.com (scheme and host, no path)`);
    }
  }
  return origins;
}

/**
 * A PostgreSQL URL with a host (`postgres://user:password@host:5432/db`, or a
 * socket directory in `?host=`). The message never repeats the value: it may
 * hold a password.
 */
function databaseUrl(value: string): string {
  const example = "a URL such as postgres://user:password@host:5432/database";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("DATABASE_URL", `is not ${example}`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    // A scheme is letters, digits, + - . only: safe to show, and it says what was meant.
    throw new ConfigError("DATABASE_URL", `scheme "${url.protocol}" is not postgres:// or postgresql:// (Keyward stores its data in PostgreSQL); expected ${example}`);
  }
  if (!url.hostname && !url.searchParams.get("host")) {
    throw new ConfigError("DATABASE_URL", `names no host; expected ${example}`);
  }
  return value;
}

/** `10/1m`: at most that many calls per duration; the duration is from 1s to 1d. */
export function parseRateLimit(variable: string, value: string): { limit: number; periodMs: number } {
  const slash = value.indexOf("/");
  if (slash < 0) throw new ConfigError(variable, `"${value}" is not a rate such as 10/1m (calls per duration)`);
  const limit = integer(variable, value.slice(0, slash), 1, 1_000_000);
  const periodMs = parseDurationMs(variable, value.slice(slash + 1), UNIT_MS.d!);
  if (periodMs < UNIT_MS.s!) throw new ConfigError(variable, "the period must be at least 1s");
  return { limit, periodMs };
}

function boolean(variable: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new ConfigError(variable, `"${value}" must be true or false`);
}

/** `5s,5m,30m`: the delay before each retry of a webhook delivery, 1 to 20 of them, each at most a day. */
function retrySchedule(variable: string, value: string): number[] {
  const delays = value.split(",").map((d) => d.trim());
  if (delays.length > 20) throw new ConfigError(variable, "lists at most 20 delays");
  return delays.map((d) => parseDurationMs(variable, d, UNIT_MS.d!));
}

/** Standard Webhooks retries: seven more attempts over about a day (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). */
export const DEFAULT_WEBHOOK_RETRIES = "5s,5m,30m,2h,5h,10h,10h";

const LEAK_KEYS = "KEYWARD_LEAK_REPORT_PUBLIC_KEYS";

/** The scanners' public keys from the file `path` names, in GitHub's published JSON (domain/leak-report-signature.ts). */
function leakReportPublicKeys(path: string | undefined): Readonly<Record<string, string>> | undefined {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(LEAK_KEYS, `cannot read ${path} (${code}); expected a file holding GitHub's https://api.github.com/meta/public_keys/secret_scanning`);
  }
  try {
    return Object.freeze(publicKeysFromGitHubJson(text));
  } catch (error) {
    throw new ConfigError(LEAK_KEYS, `${path} ${error instanceof Error ? error.message : String(error)}`);
  }
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === "" ? undefined : v;
  };
  const logLevel = get("LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}`);
  const keyPrefix = get("KEYWARD_KEY_PREFIX") ?? "kw";
  if (!KEY_PREFIX_PATTERN.test(keyPrefix)) {
    throw new ConfigError("KEYWARD_KEY_PREFIX", "must be 1–16 lower-case letters or digits, starting with a letter");
  }
  // A request's headers are part of it: node:http refuses a headers bound above the request bound.
  const headersTimeoutMs = parseDurationMs("KEYWARD_HEADERS_TIMEOUT", get("KEYWARD_HEADERS_TIMEOUT") ?? "10s", 600_000);
  const requestTimeoutMs = parseDurationMs("KEYWARD_REQUEST_TIMEOUT", get("KEYWARD_REQUEST_TIMEOUT") ?? "30s", 600_000);
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError("KEYWARD_REQUEST_TIMEOUT", `must be at least KEYWARD_HEADERS_TIMEOUT (${describeMs(headersTimeoutMs)})`);
  }
  const postgresUrl = get("DATABASE_URL");
  const store: StoreLocation = postgresUrl
    ? { kind: "postgres", url: databaseUrl(postgresUrl) }
    : { kind: "pglite", dataDir: get("KEYWARD_DATA_DIR") ?? "./.keyward" };
  return Object.freeze({
    port: integer("KEYWARD_PORT", get("KEYWARD_PORT") ?? "8080", 0, 65_535),
    host: get("KEYWARD_HOST") ?? "127.0.0.1",
    store,
    bootstrapKeyFile: get("KEYWARD_BOOTSTRAP_KEY_FILE"),
    maxKeyTtlMs: parseDurationMs("KEYWARD_MAX_KEY_TTL", get("KEYWARD_MAX_KEY_TTL") ?? "365d", MAX_KEY_TTL_MS),
    keyPrefix,
    hashCost: Object.freeze({
      memoryKiB: integer("KEYWARD_ARGON2_MEMORY_KIB", get("KEYWARD_ARGON2_MEMORY_KIB") ?? String(OWASP_COST.memoryKiB), 8, 4_194_304),
      iterations: integer("KEYWARD_ARGON2_ITERATIONS", get("KEYWARD_ARGON2_ITERATIONS") ?? String(OWASP_COST.iterations), 1, 100),
      parallelism: integer("KEYWARD_ARGON2_PARALLELISM", get("KEYWARD_ARGON2_PARALLELISM") ?? String(OWASP_COST.parallelism), 1, 16),
    }),
    logLevel,
    shutdownGraceMs: parseDurationMs("KEYWARD_SHUTDOWN_GRACE", get("KEYWARD_SHUTDOWN_GRACE") ?? "10s", MAX_SHUTDOWN_GRACE_MS),
    maxRotationOverlapMs: parseDurationMs("KEYWARD_MAX_ROTATION_OVERLAP", get("KEYWARD_MAX_ROTATION_OVERLAP") ?? "7d", MAX_KEY_TTL_MS),
    trustedProxyHops: integer("KEYWARD_TRUSTED_PROXY_HOPS", get("KEYWARD_TRUSTED_PROXY_HOPS") ?? "0", 0, 10),
    // Last use is visible within 5 s of a check: flush at least that often.
    corsOrigins: Object.freeze(corsOrigins(get("KEYWARD_CORS_ORIGINS"))),
    revokeRateLimit: Object.freeze(parseRateLimit("KEYWARD_REVOKE_RATE_LIMIT", get("KEYWARD_REVOKE_RATE_LIMIT") ?? "10/1m")),
    webhooks: Object.freeze({
      allowPrivate: boolean("KEYWARD_WEBHOOK_ALLOW_PRIVATE", get("KEYWARD_WEBHOOK_ALLOW_PRIVATE"), false),
      timeoutMs: parseDurationMs("KEYWARD_WEBHOOK_TIMEOUT", get("KEYWARD_WEBHOOK_TIMEOUT") ?? "15s", 60_000),
      retryScheduleMs: Object.freeze(retrySchedule("KEYWARD_WEBHOOK_RETRIES", get("KEYWARD_WEBHOOK_RETRIES") ?? DEFAULT_WEBHOOK_RETRIES)),
      pollMs: parseDurationMs("KEYWARD_WEBHOOK_POLL", get("KEYWARD_WEBHOOK_POLL") ?? "1s", 60_000),
      retentionMs: parseDurationMs("KEYWARD_WEBHOOK_RETENTION", get("KEYWARD_WEBHOOK_RETENTION") ?? "7d", 365 * UNIT_MS.d!),
      disableAfterMs: parseDurationMs("KEYWARD_WEBHOOK_DISABLE_AFTER", get("KEYWARD_WEBHOOK_DISABLE_AFTER") ?? "5d", 365 * UNIT_MS.d!),
    }),
    leakReportPublicKeys: leakReportPublicKeys(get("KEYWARD_LEAK_REPORT_PUBLIC_KEYS")),
    lifecycle: lifecycleSettings(get),
    cache: Object.freeze({
      maxEntries: integer("KEYWARD_CACHE_MAX_ENTRIES", get("KEYWARD_CACHE_MAX_ENTRIES") ?? "100000", 0, 10_000_000),
      ttlMs: parseDurationMs("KEYWARD_CACHE_TTL", get("KEYWARD_CACHE_TTL") ?? "60s", 86_400_000),
      // Failures are kept apart from verified keys, so a flood of forged keys
      // pushes out only other failures; legitimate ones (a misconfigured client
      // retrying a revoked key) are few, so a tenth of the default suffices.
      negativeMaxEntries: integer("KEYWARD_CACHE_NEGATIVE_MAX_ENTRIES", get("KEYWARD_CACHE_NEGATIVE_MAX_ENTRIES") ?? "10000", 0, 10_000_000),
      negativeTtlMs: parseDurationMs("KEYWARD_CACHE_NEGATIVE_TTL", get("KEYWARD_CACHE_NEGATIVE_TTL") ?? "10s", 3_600_000),
    }),
    connections: Object.freeze({
      headersTimeoutMs,
      requestTimeoutMs,
      maxConnections: integer("KEYWARD_MAX_CONNECTIONS", get("KEYWARD_MAX_CONNECTIONS") ?? "10000", 1, 1_000_000),
      maxConcurrentStreams: integer("KEYWARD_MAX_STREAMS_PER_CONNECTION", get("KEYWARD_MAX_STREAMS_PER_CONNECTION") ?? "256", 1, 100_000),
    }),
    argon2Budget: Object.freeze({
      // Half the cores: argon2 is CPU-bound, and the event loop needs a core of its own.
      maxInFlight: integer("KEYWARD_ARGON2_MAX_IN_FLIGHT", get("KEYWARD_ARGON2_MAX_IN_FLIGHT") ?? String(Math.max(1, Math.floor(availableParallelism() / 2))), 1, 64),
      maxQueued: integer("KEYWARD_ARGON2_MAX_QUEUED", get("KEYWARD_ARGON2_MAX_QUEUED") ?? "256", 0, 100_000),
      maxQueuedPerKey: integer("KEYWARD_ARGON2_MAX_QUEUED_PER_KEY", get("KEYWARD_ARGON2_MAX_QUEUED_PER_KEY") ?? "64", 0, 10_000),
      failureCooldownMs: parseDurationMs("KEYWARD_ARGON2_FAILURE_COOLDOWN", get("KEYWARD_ARGON2_FAILURE_COOLDOWN") ?? "100ms", 60_000),
    }),
    lastUseFlushMs: parseDurationMs("KEYWARD_LAST_USE_FLUSH", get("KEYWARD_LAST_USE_FLUSH") ?? "1s", 5_000),
    usageRetentionMs: parseDurationMs("KEYWARD_USAGE_RETENTION", get("KEYWARD_USAGE_RETENTION") ?? "30d", 3650 * UNIT_MS.d!),
    usage: usageSettings(get),
  });
}

/** Idle retirement shorter than this would retire keys between two uses of a service that calls now and then. */
const MIN_IDLE_RETIRE_MS = UNIT_MS.h!;

function lifecycleSettings(get: (name: string) => string | undefined): Config["lifecycle"] {
  const idle = get("KEYWARD_IDLE_RETIRE_AFTER");
  const idleRetireAfterMs = idle === undefined ? undefined : parseDurationMs("KEYWARD_IDLE_RETIRE_AFTER", idle, MAX_KEY_TTL_MS);
  if (idleRetireAfterMs !== undefined && idleRetireAfterMs < MIN_IDLE_RETIRE_MS) throw new ConfigError("KEYWARD_IDLE_RETIRE_AFTER", "must be at least 1h");
  return Object.freeze({
    intervalMs: parseDurationMs("KEYWARD_LIFECYCLE_INTERVAL", get("KEYWARD_LIFECYCLE_INTERVAL") ?? "60s", UNIT_MS.h!),
    expiryWarningMs: parseDurationMs("KEYWARD_EXPIRY_WARNING", get("KEYWARD_EXPIRY_WARNING") ?? "7d", MAX_KEY_TTL_MS),
    idleRetireAfterMs,
    // Not a setting: bounds one transaction's size; tests shrink it to see batches.
    batchSize: 500,
  });
}

function usageSettings(get: (name: string) => string | undefined): Config["usage"] {
  const leaseSize = integer("KEYWARD_CREDIT_LEASE", get("KEYWARD_CREDIT_LEASE") ?? "10", 1, 1_000_000);
  // Unset, the ceiling is 200 or the base lease if that is larger: setting only the base must not fail.
  const leaseMaxSize = integer("KEYWARD_CREDIT_LEASE_MAX", get("KEYWARD_CREDIT_LEASE_MAX") ?? String(Math.max(200, leaseSize)), 1, 1_000_000);
  if (leaseMaxSize < leaseSize) throw new ConfigError("KEYWARD_CREDIT_LEASE_MAX", `must be at least KEYWARD_CREDIT_LEASE (${leaseSize})`);
  return Object.freeze({
    syncMs: parseDurationMs("KEYWARD_RATE_LIMIT_SYNC", get("KEYWARD_RATE_LIMIT_SYNC") ?? "200ms", 10_000),
    leaseSize,
    leaseMaxSize,
    leaseHoldMs: parseDurationMs("KEYWARD_CREDIT_LEASE_HOLD", get("KEYWARD_CREDIT_LEASE_HOLD") ?? "2s", 60_000),
  });
}
