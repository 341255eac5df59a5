// Expiry rules (each refusal names its field) and the configuration from the environment.
// The shape of every request field is tested in test/proto/field-rules.test.ts.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseDurationMs } from "../../src/config.js";
import { checkExpireTime } from "../../src/domain/api-keys.js";
import { InvalidArgumentError } from "../../src/domain/errors.js";
import { OWASP_COST } from "../../src/domain/secret-hasher.js";

/** Runs `fn`, expecting an InvalidArgumentError for `field`; returns it. */
function refusal(field: string, fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    const error = e as InvalidArgumentError;
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    expect(error.kind).toBe("invalid_argument");
    return error;
  }
  throw new Error(`expected ${field} to be refused`);
}

describe("checkExpireTime", () => {
  const now = new Date("2030-06-01T12:00:00.000Z");
  const day = 86_400_000;
  const max = 365 * day;
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

  it.each([
    ["1 ms from now", 1],
    ["a day from now", day],
    ["exactly the maximum lifetime from now", max],
  ])("accepts %s", (_what, offset) => {
    expect(checkExpireTime("expire_time", at(offset), now, max)).toEqual(at(offset));
  });

  it.each([
    ["missing", undefined, /required/],
    ["an invalid date", new Date(Number.NaN), /not a valid time/],
    ["now", at(0), /future/],
    ["in the past", at(-day), /future/],
    ["1 ms beyond the maximum lifetime", at(max + 1), /at most 365 days/],
    ["ten years away", at(3_650 * day), /at most 365 days/],
  ])("refuses %s, naming the field", (_what, value, detail) => {
    expect(refusal("api_key.expire_time", () => checkExpireTime("api_key.expire_time", value, now, max)).message).toMatch(detail);
  });

  it("uses the configured maximum, not 365 days", () => {
    expect(() => checkExpireTime("expire_time", at(2 * day), now, day)).toThrow(InvalidArgumentError);
    expect(checkExpireTime("expire_time", at(day), now, day)).toEqual(at(day));
  });
});

describe("loadConfig", () => {
  it("defaults to 127.0.0.1:8080, PGlite in ./.keyward, a 365-day maximum TTL and the kw prefix", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      store: { kind: "pglite", dataDir: "./.keyward" },
      bootstrapKeyFile: undefined,
      maxKeyTtlMs: 365 * 86_400_000,
      keyPrefix: "kw",
      logLevel: "info",
      shutdownGraceMs: 10_000,
      revokeRateLimit: { limit: 10, periodMs: 60_000 },
    });
    expect(config.hashCost).toEqual(OWASP_COST);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("treats blank variables as unset", () => {
    expect(loadConfig({ KEYWARD_PORT: "  ", DATABASE_URL: "", LOG_LEVEL: "" })).toMatchObject({
      port: 8080,
      store: { kind: "pglite" },
      logLevel: "info",
    });
  });

  it("uses PostgreSQL when DATABASE_URL is set", () => {
    const url = "postgres://keyward@db.internal:5432/keyward";
    expect(loadConfig({ DATABASE_URL: url, KEYWARD_DATA_DIR: "/var/lib/keyward" }).store).toEqual({ kind: "postgres", url });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      KEYWARD_PORT: "9090",
      KEYWARD_HOST: "0.0.0.0",
      KEYWARD_DATA_DIR: "/var/lib/keyward",
      KEYWARD_BOOTSTRAP_KEY_FILE: "/run/keyward/admin-key",
      KEYWARD_MAX_KEY_TTL: "90d",
      KEYWARD_KEY_PREFIX: "acme",
      KEYWARD_ARGON2_MEMORY_KIB: "65536",
      KEYWARD_ARGON2_ITERATIONS: "3",
      KEYWARD_ARGON2_PARALLELISM: "4",
      LOG_LEVEL: "debug",
      KEYWARD_SHUTDOWN_GRACE: "30s",
      KEYWARD_MAX_ROTATION_OVERLAP: "2d",
      KEYWARD_TRUSTED_PROXY_HOPS: "1",
      KEYWARD_LAST_USE_FLUSH: "2s",
      KEYWARD_CORS_ORIGINS: "https://admin.example.com, http://localhost:5173",
      KEYWARD_CACHE_MAX_ENTRIES: "5000",
      KEYWARD_HEADERS_TIMEOUT: "5s",
      KEYWARD_REQUEST_TIMEOUT: "20s",
      KEYWARD_MAX_CONNECTIONS: "500",
      KEYWARD_MAX_STREAMS_PER_CONNECTION: "64",
      KEYWARD_CACHE_TTL: "30s",
      KEYWARD_CACHE_NEGATIVE_TTL: "5s",
      KEYWARD_CACHE_NEGATIVE_MAX_ENTRIES: "500",
      KEYWARD_ARGON2_MAX_IN_FLIGHT: "3",
      KEYWARD_ARGON2_MAX_QUEUED: "100",
      KEYWARD_ARGON2_MAX_QUEUED_PER_KEY: "8",
      KEYWARD_ARGON2_FAILURE_COOLDOWN: "250ms",
      KEYWARD_RATE_LIMIT_SYNC: "500ms",
      KEYWARD_CREDIT_LEASE: "50",
      KEYWARD_CREDIT_LEASE_MAX: "400",
      KEYWARD_CREDIT_LEASE_HOLD: "5s",
      KEYWARD_REVOKE_RATE_LIMIT: "30/1h",
      KEYWARD_WEBHOOK_ALLOW_PRIVATE: "true",
      KEYWARD_WEBHOOK_TIMEOUT: "20s",
      KEYWARD_WEBHOOK_RETRIES: "1s,1m",
      KEYWARD_WEBHOOK_POLL: "2s",
      KEYWARD_WEBHOOK_RETENTION: "3d",
      KEYWARD_WEBHOOK_DISABLE_AFTER: "2d",
      KEYWARD_EXPIRY_WARNING: "3d",
      KEYWARD_IDLE_RETIRE_AFTER: "90d",
      KEYWARD_LIFECYCLE_INTERVAL: "5m",
    });
    expect(config).toEqual({
      port: 9090,
      host: "0.0.0.0",
      store: { kind: "pglite", dataDir: "/var/lib/keyward" },
      bootstrapKeyFile: "/run/keyward/admin-key",
      maxKeyTtlMs: 90 * 86_400_000,
      keyPrefix: "acme",
      hashCost: { memoryKiB: 65_536, iterations: 3, parallelism: 4 },
      logLevel: "debug",
      shutdownGraceMs: 30_000,
      maxRotationOverlapMs: 2 * 86_400_000,
      trustedProxyHops: 1,
      lastUseFlushMs: 2_000,
      usageRetentionMs: 30 * 86_400_000,
      usage: { syncMs: 500, leaseSize: 50, leaseMaxSize: 400, leaseHoldMs: 5_000 },
      corsOrigins: ["https://admin.example.com", "http://localhost:5173"],
      revokeRateLimit: { limit: 30, periodMs: 3_600_000 },
      webhooks: { allowPrivate: true, timeoutMs: 20_000, retryScheduleMs: [1_000, 60_000], pollMs: 2_000, retentionMs: 3 * 86_400_000, disableAfterMs: 2 * 86_400_000 },
      lifecycle: { intervalMs: 300_000, expiryWarningMs: 3 * 86_400_000, idleRetireAfterMs: 90 * 86_400_000, batchSize: 500 },
      cache: { maxEntries: 5_000, ttlMs: 30_000, negativeMaxEntries: 500, negativeTtlMs: 5_000 },
      connections: { headersTimeoutMs: 5_000, requestTimeoutMs: 20_000, maxConnections: 500, maxConcurrentStreams: 64 },
      argon2Budget: { maxInFlight: 3, maxQueued: 100, maxQueuedPerKey: 8, failureCooldownMs: 250 },
    });
  });

  it.each([
    ["KEYWARD_PORT", "abc"],
    ["KEYWARD_PORT", "65536"],
    ["KEYWARD_PORT", "-1"],
    ["KEYWARD_PORT", "80.5"],
    ["KEYWARD_MAX_KEY_TTL", "10x"],
    ["KEYWARD_MAX_KEY_TTL", "0d"],
    ["KEYWARD_MAX_KEY_TTL", "365"],
    ["LOG_LEVEL", "loud"],
    ["LOG_LEVEL", "INFO"],
    ["KEYWARD_KEY_PREFIX", "Bad_"],
    ["KEYWARD_KEY_PREFIX", "kw_"],
    ["KEYWARD_KEY_PREFIX", "1kw"],
    ["KEYWARD_KEY_PREFIX", "a".repeat(17)],
    ["KEYWARD_ARGON2_MEMORY_KIB", "4"],
    ["KEYWARD_ARGON2_ITERATIONS", "0"],
    ["KEYWARD_ARGON2_PARALLELISM", "17"],
    ["KEYWARD_SHUTDOWN_GRACE", "soon"],
    ["KEYWARD_REQUEST_TIMEOUT", "soon"],
    // Below KEYWARD_HEADERS_TIMEOUT's default (10s): the headers are part of the request.
    ["KEYWARD_REQUEST_TIMEOUT", "5s"],
    ["KEYWARD_CACHE_NEGATIVE_MAX_ENTRIES", "-1"],
    ["KEYWARD_REVOKE_RATE_LIMIT", "10"],
    ["KEYWARD_REVOKE_RATE_LIMIT", "0/1m"],
    ["KEYWARD_REVOKE_RATE_LIMIT", "ten/1m"],
    ["KEYWARD_REVOKE_RATE_LIMIT", "10/"],
    ["KEYWARD_REVOKE_RATE_LIMIT", "10/500ms"],
    ["KEYWARD_REVOKE_RATE_LIMIT", "10/2d"],
    // Below KEYWARD_CREDIT_LEASE's default (10): a hot key's lease grows from the base, never shrinks below it.
    ["KEYWARD_CREDIT_LEASE_MAX", "5"],
  ])("refuses %s=%j with a ConfigError naming the variable", (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message.startsWith(`${variable}: `)).toBe(true);
  });

  it.each(["0", "65535"])("accepts KEYWARD_PORT=%s", (port) => {
    expect(loadConfig({ KEYWARD_PORT: port }).port).toBe(Number(port));
  });
});

describe("parseDurationMs", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["15m", 900_000],
    ["12h", 43_200_000],
    ["365d", 31_536_000_000],
    [" 7d ", 604_800_000],
  ])("reads %j as %i ms", (value, ms) => {
    expect(parseDurationMs("X", value, Infinity)).toBe(ms);
  });

  it("refuses a duration above its bound, naming the bound", () => {
    expect(() => parseDurationMs("KEYWARD_SHUTDOWN_GRACE", "2h", 3_600_000)).toThrow(/^KEYWARD_SHUTDOWN_GRACE: must be at most 3600s/);
    expect(() => loadConfig({ KEYWARD_SHUTDOWN_GRACE: "25d" })).toThrow(/^KEYWARD_SHUTDOWN_GRACE: /);
    expect(() => loadConfig({ KEYWARD_MAX_KEY_TTL: "300000000d" })).toThrow(/^KEYWARD_MAX_KEY_TTL: must be at most 36500d/);
  });

  it.each(["", "0s", "0ms", "10", "10x", "1.5h", "-1s", "1d2h", "10 s", "d", "1D", "1w"])(
    "refuses %j with a ConfigError naming the variable",
    (value) => {
      expect(() => parseDurationMs("KEYWARD_MAX_KEY_TTL", value, Infinity)).toThrow(ConfigError);
      expect(() => parseDurationMs("KEYWARD_MAX_KEY_TTL", value, Infinity)).toThrow(/^KEYWARD_MAX_KEY_TTL: /);
    },
  );
});
