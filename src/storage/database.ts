// The one typed view of Keyward's tables. Migrations do not use it (they are
// frozen in time); everything else does.
import type { ColumnType, Insertable, Selectable } from "kysely";
import type { ApiKeyStateRecord } from "./records.js";

export interface Database {
  services: ServicesTable;
  permissions: PermissionsTable;
  policies: PoliciesTable;
  api_keys: ApiKeysTable;
  bootstrap: BootstrapTable;
  audit_events: AuditEventsTable;
  rate_windows: RateWindowsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  usage_hourly: UsageHourlyTable;
}

export interface ServicesTable {
  name: string;
  update_time: Date;
}

export interface PermissionsTable {
  name: string;
  service: string;
  description: string;
  registered: boolean;
  update_time: Date;
}

export interface PoliciesTable {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  create_time: Date;
  update_time: Date;
  creator_key_id: string | null;
  rate_limits: ColumnType<StoredRateLimit[], string | undefined, string>;
}

/** Stored as jsonb: `[{"limit":10,"periodMs":1000}]`. */
export interface StoredRateLimit {
  limit: number;
  periodMs: number;
}

/** Stored as jsonb: `[{"type":"prefix","value":"/jobs"}]`. */
export interface StoredConstraint {
  type: "exact" | "prefix" | "regex" | "verb";
  value: string;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  policy_id: string;
  secret_hash: string;
  expire_time: Date;
  allowed_subnets: string[];
  // jsonb: written as a JSON string, read back as parsed JSON.
  constraints: ColumnType<StoredConstraint[], string, string>;
  state: ApiKeyStateRecord;
  create_time: Date;
  update_time: Date;
  last_used_time: Date | null;
  creator_key_id: string | null;
  retire_time: Date | null;
  retirer_key_id: string | null;
  previous_secret_hash: string | null;
  previous_secret_expire_time: Date | null;
  service: string | null;
  rate_limits: ColumnType<StoredRateLimit[], string | undefined, string>;
  // bigint: pg reads it back as a string, PGlite as a number.
  credits_remaining: ColumnType<string | number | null, number | null, number | null>;
  credits_refill_amount: ColumnType<string | number | null, number | null, number | null>;
  credits_refill_interval: "day" | "month" | null;
  credits_set_time: Date | null;
  credits_epoch: ColumnType<number, number | undefined, number>;
  credits_last_grant: ColumnType<string | number | null, number | null, number | null>;
  // jsonb object of strings, at most 16 (a CHECK holds the API's bounds).
  labels: ColumnType<Record<string, string>, string | undefined, string>;
  // When this expiry's api_key.expiring / api_key.expired events were written (null: not yet).
  expiring_notified_at: ColumnType<Date | null, never, Date | null>;
  expired_notified_at: ColumnType<Date | null, never, Date | null>;
  // When the key was last warned of idle retirement (null: never); stale once the key is used again.
  idle_warned_at: ColumnType<Date | null, never, Date | null>;
}

/** Checks counted by every replica in one window of one rate limit of one key. */
export interface RateWindowsTable {
  api_key_id: string;
  period_ms: ColumnType<string | number, number, number>;
  window_start: Date;
  count: ColumnType<string | number, number, number>;
}

export interface AuditEventsTable {
  id: string;
  actor_key_id: string;
  action: string;
  target: string;
  outcome: string;
  client_ip: string;
  create_time: Date;
  changed_fields: string[];
  detail: ColumnType<string, string | undefined, never>;
}

export interface WebhookEndpointsTable {
  id: string;
  url: string;
  event_types: string[];
  secret: string;
  create_time: Date;
  creator_key_id: string | null;
  previous_secret: ColumnType<string | null, string | null | undefined, string | null>;
  previous_secret_expire_time: ColumnType<Date | null, Date | null | undefined, Date | null>;
  failing_since: ColumnType<Date | null, Date | null | undefined, Date | null>;
  disable_time: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  event_type: string;
  body: string;
  state: "pending" | "delivered" | "failed";
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_time: Date;
  last_status_code: ColumnType<number, number | undefined, number>;
  last_error: ColumnType<string, string | undefined, string>;
  create_time: Date;
  deliver_time: Date | null;
}

export interface BootstrapTable {
  singleton: ColumnType<boolean, boolean | undefined, never>;
  api_key_id: string;
  create_time: Date;
}

export type PermissionRow = Selectable<PermissionsTable>;
export type PolicyRow = Selectable<PoliciesTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type NewApiKeyRow = Insertable<ApiKeysTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;

/** Checks per hour, key and verdict code (the empty key id: checks that proved no key). */
export interface UsageHourlyTable {
  hour: Date;
  api_key_id: string;
  code: string;
  /** bigint: a string from pg, a number from PGlite. */
  count: ColumnType<string | number, number, number>;
}
