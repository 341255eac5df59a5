// Assembles Keyward: store, domain services, start-up registration, bootstrap
// key and the server. main.ts adds the process around it; tests call it directly.
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { ApiKeys } from "./domain/api-keys.js";
import { AuditLog } from "./domain/audit.js";
import { issueBootstrapKey } from "./domain/bootstrap.js";
import { ChangeRouting } from "./domain/change-routing.js";
import { KeyChecker } from "./domain/check.js";
import { KEYWARD_SERVICE } from "./domain/keyward-permissions.js";
import { LastUseRecorder } from "./domain/last-use.js";
import { LifecycleScheduler } from "./domain/lifecycle.js";
import { UsageRollups } from "./domain/usage-rollups.js";
import { Policies } from "./domain/policies.js";
import { RegisteredPermissionCache } from "./domain/registered-permission-cache.js";
import { VerificationCache } from "./domain/verification-cache.js";
import { UsageLimiter } from "./domain/usage-limits.js";
import { VerifyLimiter } from "./domain/verify-limiter.js";
import { WebhookDispatcher } from "./domain/webhook-dispatcher.js";
import { WebhookEndpoints } from "./domain/webhooks.js";
import { SYSTEM } from "./domain/principal.js";
import { PermissionRegistry } from "./domain/permission-registry.js";
import { ClientRateLimit } from "./domain/client-rate-limit.js";
import { LeakReportKeys } from "./domain/leak-report-signature.js";
import { LeakReports } from "./domain/leak-reports.js";
import { RepeatingRound } from "./domain/repeating-round.js";
import { PossessionRevoker } from "./domain/revoke-by-possession.js";
import { SecretHasher } from "./domain/secret-hasher.js";
import { installRoot } from "./install-root.js";
import { defaultBootstrapDelivery } from "./process-io.js";
import { buildServer } from "./server.js";
import { openStore } from "./storage/open.js";
import type { Store } from "./storage/store.js";
import type { OnePortServer } from "./transport/one-port.js";
import { Metrics } from "./transport/metrics.js";
import { Readiness } from "./transport/readiness.js";
import { RpcLog } from "./transport/rpc-log.js";
import { webhookSender } from "./transport/webhook-sender.js";
import type { DomainServices } from "./transport/connect-services.js";
import { keywardPermissionDefinitions } from "./transport/keyward-declarations.js";

/**
 * Distinct keys counted per hour between two flushes (and rows kept across a
 * failed flush): far above any real deployment's keys used per second, yet a
 * few MB at most.
 */
const USAGE_MAX_ENTRIES = 100_000;

/** The dashboard's build output (npm start builds it first when its sources changed). */
export const WEB_ROOT = join(installRoot(), "web/dist");

export interface Keyward {
  readonly config: Config;
  /** Nothing in src reads it: tests do, for state the API can neither set up nor show (every admin key gone, rows at the bounds, secrets at rest). */
  readonly store: Store;
  /** Nothing in src reads it: tests do, to call the domain with no transport in between. */
  readonly services: DomainServices;
  readonly server: OnePortServer;
  /** Expiry announcements and idle retirement; runs itself, and `runOnce` runs a round now. */
  readonly lifecycle: LifecycleScheduler;
  /** The bootstrap key's id when this start issued it. */
  readonly bootstrapKeyId: string | undefined;
  listen(): Promise<AddressInfo>;
  /** Drains in-flight requests, then closes the server and the store. */
  close(): Promise<void>;
}

export interface KeywardOptions {
  /** Where the first admin key goes; defaults to KEYWARD_BOOTSTRAP_KEY_FILE, else stdout. */
  deliverBootstrapKey?: (credentials: string) => Promise<void>;
  now?: () => Date;
  /**
   * A server already listening (main.ts binds the port before opening the
   * store, so a port in use stops the start before any data is touched);
   * Keyward's handler replaces its "starting" one once everything is ready.
   */
  server?: OnePortServer;
  /** false: CheckKey over gRPC goes through Connect like every other RPC (tests compare the two paths). */
  grpcFastPath?: boolean;
  /** Spans for RPCs and store queries (main.ts sets it once src/telemetry.ts has registered a provider). */
  tracing?: boolean;
}

export async function createKeyward(config: Config, logger: Logger, options: KeywardOptions = {}): Promise<Keyward> {
  const now = options.now ?? (() => new Date());
  const store = await openStore(config.store, { warn: (message, details) => logger.warn(details, message), traceQueries: options.tracing });
  try {
    const hasher = new SecretHasher(config.hashCost);
    const settings = { keyPrefix: config.keyPrefix, maxKeyTtlMs: config.maxKeyTtlMs, maxRotationOverlapMs: config.maxRotationOverlapMs };
    const lastUse = new LastUseRecorder(store, (error) => logger.warn({ err: error }, "could not record last use; will retry"));
    const rollups = new UsageRollups(store, { retentionMs: config.usageRetentionMs, maxEntries: USAGE_MAX_ENTRIES }, now, (error) =>
      logger.warn({ err: error }, "could not record usage counts; will retry"),
    );
    // One round every KEYWARD_LAST_USE_FLUSH writes both: one write of each per interval, never one per check.
    // Each flush keeps what it could not write and reports it itself, so the round never fails.
    const flushes = new RepeatingRound(config.lastUseFlushMs, () => Promise.all([lastUse.flush(), rollups.flush()]), () => {});
    const cache = new VerificationCache(config.cache);
    const usage = new UsageLimiter(store.usage, config.usage, (error) => logger.warn({ err: error }, "could not share usage counts; will retry"), now);
    const registered = new RegisteredPermissionCache(store);
    const verifyLimiter = new VerifyLimiter(config.argon2Budget);
    const metrics = new Metrics({ cache, verifyLimiter, feedUp: () => store.changes.up, usage: rollups });
    const routing = new ChangeRouting(cache, usage, registered, () => store.changes.up);
    // Every replica sends; the outbox's claims keep them from sending one attempt twice.
    const dispatcher = new WebhookDispatcher(store, webhookSender(config.webhooks), config.webhooks, now, (error) =>
      logger.warn({ err: error }, "could not send webhooks this round; will retry"),
    );
    // Our own writes apply at commit; other replicas' arrive as notifications.
    store.onCommittedChange((change) => (change.kind === "outbox" ? dispatcher.wake() : routing.changed(change)));
    await store.changes.start({
      onChange(change) {
        metrics.notificationLag.observe(Math.max(0, Date.now() - change.at) / 1000);
        routing.changed(change);
      },
      onDown(error) {
        routing.feedLost();
        logger.warn({ err: error }, "lost the change feed; checks read the store until it is back");
      },
      onUp() {
        routing.feedRestored();
        logger.info("change feed up; verification cache enabled");
      },
    });
    const apiKeys = new ApiKeys(store, hasher, settings, now);
    const checker = new KeyChecker({
      store,
      hasher,
      keyPrefix: config.keyPrefix,
      now,
      cache,
      verifyLimiter,
      registered,
      onValid: (keyId, at) => lastUse.touch(keyId, at),
      usage,
    });
    const revoker = new PossessionRevoker(checker, apiKeys, new ClientRateLimit(config.revokeRateLimit), ({ keyId, clientIp, via, leftNoAdmin }) => {
      const how = via === "leak_report" ? "by a leak report" : "by possession";
      if (leftNoAdmin) logger.warn({ apiKeyId: keyId, clientIp }, `the last admin key was revoked ${how}; \`npm run recover\` issues a new one`);
      else logger.info({ apiKeyId: keyId, clientIp }, `API key revoked ${how}`);
    });
    const services: DomainServices = {
      apiKeys,
      policies: new Policies(store, now),
      registry: new PermissionRegistry(store, now),
      checker,
      audit: new AuditLog(store, now),
      revoker,
      usage: rollups,
      webhooks: new WebhookEndpoints(store, config.webhooks.allowPrivate, now),
      leakReports: config.leakReportPublicKeys && new LeakReports(new LeakReportKeys(config.leakReportPublicKeys), revoker),
    };
    await services.registry.register(SYSTEM, KEYWARD_SERVICE, keywardPermissionDefinitions());
    const deliver = options.deliverBootstrapKey ?? defaultBootstrapDelivery(config.bootstrapKeyFile);
    const bootstrapKeyId = await issueBootstrapKey({ store, hasher, settings, now, deliver });
    if (bootstrapKeyId) logger.info({ apiKeyId: bootstrapKeyId }, "issued the bootstrap admin key");
    // Every replica runs rounds; an advisory lock lets one at a time do the work.
    const lifecycle = new LifecycleScheduler(store, apiKeys, config.lifecycle, now, {
      idleRetired: (keyId) => logger.info({ apiKeyId: keyId }, "retired an API key unused for KEYWARD_IDLE_RETIRE_AFTER"),
      lastAdminKept: (keyId) =>
        logger.warn({ apiKeyId: keyId }, "the last admin key is idle past KEYWARD_IDLE_RETIRE_AFTER; keeping it (create another admin key, then retire it)"),
      failed: (error) => logger.warn({ err: error }, "could not run the key lifecycle round; will retry"),
    });
    const readiness = new Readiness(() => store.ping());
    const rpcLog = new RpcLog(logger, metrics);
    const server = buildServer(services, readiness, metrics, rpcLog, logger, {
      trustedProxyHops: config.trustedProxyHops,
      corsOrigins: config.corsOrigins,
      connections: config.connections,
      webRoot: WEB_ROOT,
      grpcFastPath: options.grpcFastPath,
      tracing: options.tracing,
    }, options.server);
    flushes.start();
    dispatcher.start();
    lifecycle.start();
    return {
      config,
      store,
      services,
      server,
      lifecycle,
      bootstrapKeyId,
      listen: async () => server.address() ?? server.listen(config.port, config.host),
      async close() {
        readiness.markDraining();
        await server.close(config.shutdownGraceMs);
        rpcLog.close();
        await lifecycle.close();
        await dispatcher.close();
        await flushes.close();
        await Promise.all([lastUse.flush(), rollups.flush()]);
        // Unused leased credits go back to their keys before the store closes.
        await usage.close().catch((error: unknown) => logger.warn({ err: error }, "could not give back leased credits"));
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
