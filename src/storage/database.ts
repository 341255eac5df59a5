// The one typed view of Keyward's tables. Migrations do not use it (they are
// frozen in time); everything else does.
import type { ColumnType, Insertable, Selectable } from "kysely";

export interface Database {
  services: ServicesTable;
  permissions: PermissionsTable;
  policies: PoliciesTable;
  api_keys: ApiKeysTable;
  bootstrap: BootstrapTable;
  audit_events: AuditEventsTable;
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
  state: "active" | "retired";
  create_time: Date;
  update_time: Date;
  last_used_time: Date | null;
  creator_key_id: string | null;
  retire_time: Date | null;
  retirer_key_id: string | null;
  previous_secret_hash: string | null;
  previous_secret_expire_time: Date | null;
  service: string | null;
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
