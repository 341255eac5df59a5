import { Migrator, type Kysely, type Migration, type MigrationProvider } from "kysely";
import * as initial from "./migrations/2026_11_24_220000_initial.js";
import * as keyLifecycle from "./migrations/2026_11_24_230000_key_lifecycle.js";
import * as keyService from "./migrations/2026_11_26_120000_key_service.js";
import * as usageLimits from "./migrations/2026_12_01_110000_usage_limits.js";
import * as webhooks from "./migrations/2026_12_02_010000_webhooks.js";
import * as keyLabels from "./migrations/2026_12_02_120000_key_labels.js";
import * as auditDetail from "./migrations/2026_12_02_130000_audit_detail.js";
import * as lifecycleNotices from "./migrations/2026_12_02_130000_lifecycle_notices.js";
import * as idleWarnings from "./migrations/2026_12_02_140000_idle_warnings.js";
import * as webhookSecretRotationDisable from "./migrations/2026_12_02_140000_webhook_secret_rotation_disable.js";
import * as usageHourly from "./migrations/2026_12_02_200000_usage_hourly.js";

// Listed here rather than read from the folder, so they run the same under tsx,
// vitest and a bundler. Names sort by date.
const migrations: Record<string, Migration> = {
  "2026_11_24_220000_initial": initial,
  "2026_11_24_230000_key_lifecycle": keyLifecycle,
  "2026_11_26_120000_key_service": keyService,
  "2026_12_01_110000_usage_limits": usageLimits,
  "2026_12_02_010000_webhooks": webhooks,
  "2026_12_02_120000_key_labels": keyLabels,
  "2026_12_02_130000_audit_detail": auditDetail,
  "2026_12_02_130000_lifecycle_notices": lifecycleNotices,
  "2026_12_02_140000_idle_warnings": idleWarnings,
  "2026_12_02_140000_webhook_secret_rotation_disable": webhookSecretRotationDisable,
  "2026_12_02_200000_usage_hourly": usageHourly,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Applies pending migrations. Kysely's Postgres adapter holds an advisory lock
 * for the run, so replicas starting together apply each migration once.
 */
export async function migrateToLatest<T>(db: Kysely<T>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    // No failed migration named: the run itself (its lock, its table) failed.
    throw new Error(failed ? `migration ${failed} failed: ${reason}` : `could not apply migrations: ${reason}`, { cause: error });
  }
}
