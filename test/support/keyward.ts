// A real Keyward on an ephemeral port, for API tests.
import { Writable } from "node:stream";
import type { Logger } from "pino";
import { createKeyward, type Keyward } from "../../src/app.js";
import type { Config } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import type { StoreLocation } from "../../src/storage/open.js";
import { fromTemplate } from "./stores.js";

/** Real time, plus however far a test has moved it forward. */
export class TestClock {
  private offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export function testConfig(store: StoreLocation, overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: "127.0.0.1",
    store,
    bootstrapKeyFile: undefined,
    maxKeyTtlMs: 365 * 86_400_000,
    keyPrefix: "kw",
    // The cheapest argon2id; production uses OWASP's settings.
    hashCost: { memoryKiB: 8, iterations: 1, parallelism: 1 },
    logLevel: "silent",
    shutdownGraceMs: 2_000,
    maxRotationOverlapMs: 7 * 86_400_000,
    trustedProxyHops: 0,
    lastUseFlushMs: 200,
    usageRetentionMs: 30 * 86_400_000,
    corsOrigins: [],
    revokeRateLimit: { limit: 1_000, periodMs: 60_000 },
    // Tests' receivers listen on loopback; their retries wait a moment, not minutes.
    webhooks: { allowPrivate: true, timeoutMs: 5_000, retryScheduleMs: [50, 100, 200], pollMs: 1_000, retentionMs: 86_400_000, disableAfterMs: 5 * 86_400_000 },
    leakReportPublicKeys: undefined,
    // Tests run lifecycle rounds themselves (keyward.lifecycle.runOnce), after moving the clock.
    lifecycle: { intervalMs: 3_600_000, expiryWarningMs: 7 * 86_400_000, idleRetireAfterMs: undefined, batchSize: 500 },
    cache: { maxEntries: 10_000, ttlMs: 60_000, negativeMaxEntries: 10_000, negativeTtlMs: 10_000 },
    connections: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 10_000, maxConcurrentStreams: 256 },
    argon2Budget: { maxInFlight: 2, maxQueued: 64, maxQueuedPerKey: 64, failureCooldownMs: 1 },
    usage: { syncMs: 100, leaseSize: 10, leaseMaxSize: 200, leaseHoldMs: 1_000 },
    ...overrides,
  };
}

/** Collects every log line written, as text. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      this.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  logger(level = "trace"): Logger {
    return createLogger(level, this.stream);
  }
  get text(): string {
    return this.lines.join("\n");
  }
}

export interface RunningKeyward {
  keyward: Keyward;
  url: string;
  port: number;
  /** The bootstrap admin key's credentials (undefined when this start issued none). */
  adminKey: string;
  clock: TestClock;
  close(): Promise<void>;
}

export async function startKeyward(
  store: StoreLocation,
  options: { clock?: TestClock; logger?: Logger; config?: Partial<Config>; grpcFastPath?: boolean } = {},
): Promise<RunningKeyward> {
  const clock = options.clock ?? new TestClock();
  let adminKey = "";
  const keyward = await createKeyward(testConfig(await fromTemplate(store), options.config), options.logger ?? createLogger("silent"), {
    now: clock.now,
    grpcFastPath: options.grpcFastPath,
    deliverBootstrapKey: async (credentials) => {
      adminKey = credentials;
    },
  });
  const address = await keyward.listen();
  return {
    keyward,
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    adminKey,
    clock,
    close: () => keyward.close(),
  };
}
