// Plain records the storage layer hands to the domain: no SQL types.

export type ConstraintKind = "exact" | "prefix" | "regex" | "verb";

export interface ConstraintRecord {
  type: ConstraintKind;
  value: string;
}

export type ApiKeyStateRecord = "active" | "retired";

export interface PermissionRecord {
  name: string;
  service: string;
  description: string;
  registered: boolean;
}

/** At most `limit` checks in any `periodMs`. */
export interface RateLimitRecord {
  limit: number;
  periodMs: number;
}

export type RefillInterval = "day" | "month";

export interface CreditsRecord {
  /** Credits no replica holds in a lease. */
  remaining: number;
  refill: { amount: number; interval: RefillInterval } | null;
}

export interface PolicyRecord {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  createTime: Date;
  updateTime: Date;
  apiKeyCount: number;
  /** The rate limits of each key on the policy that has none of its own. */
  rateLimits: RateLimitRecord[];
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  policyId: string;
  expireTime: Date;
  allowedSubnets: string[];
  constraints: ConstraintRecord[];
  state: ApiKeyStateRecord;
  createTime: Date;
  updateTime: Date;
  lastUsedTime: Date | null;
  creatorKeyId: string | null;
  retireTime: Date | null;
  retirerKeyId: string | null;
  /** The service the key belongs to; null = none. */
  service: string | null;
  /** Empty = the policy's. */
  rateLimits: RateLimitRecord[];
  /** Null = unlimited. */
  credits: CreditsRecord | null;
  /** Metadata (owner, team, ticket); never part of a check's answer. */
  labels: Record<string, string>;
}

/** What a check needs about a key: the key, its secrets' hashes and its policy. */
export interface KeyForCheck {
  key: ApiKeyRecord;
  secretHash: string;
  /** The secret replaced by the last rotation, valid until its expiry. */
  previousSecret: { hash: string; expireTime: Date } | null;
  policy: CheckedPolicy;
}

/** A key's policy as a check reads it: without the key count, which no check needs and which costs a query. */
export type CheckedPolicy = Omit<PolicyRecord, "apiKeyCount">;

export interface AuditEventRecord {
  id: string;
  /** The acting key's id; empty when the caller could not be identified. */
  actorKeyId: string;
  /** The RPC, e.g. `AdminCreateApiKey`. */
  action: string;
  /** `api_keys/<id>`, `policies/<id>`, `services/<name>`, or empty. */
  target: string;
  /** `OK`, or the code the attempt was refused with. */
  outcome: string;
  clientIp: string;
  createTime: Date;
  /** Names of the fields changed; never a value. */
  changedFields: string[];
  /** What an actor that is not a key said about the action (a leak report's source and URL); empty otherwise. Never a secret. */
  detail: string;
}

export interface WebhookEndpointRecord {
  id: string;
  url: string;
  /** Empty = every event type. */
  eventTypes: string[];
  createTime: Date;
  /** When Keyward stopped sending to it after deliveries failed for KEYWARD_WEBHOOK_DISABLE_AFTER; null while enabled. */
  disableTime: Date | null;
}

export type WebhookDeliveryState = "pending" | "delivered" | "failed";

export interface WebhookDeliveryRecord {
  /** The message id, sent as `webhook-id`. */
  id: string;
  endpointId: string;
  eventType: string;
  state: WebhookDeliveryState;
  attempts: number;
  lastStatusCode: number;
  lastError: string;
  createTime: Date;
  nextAttemptTime: Date;
  deliverTime: Date | null;
}

/** A delivery a dispatcher has claimed, with what it needs to sign and send it. */
export interface ClaimedDelivery {
  id: string;
  url: string;
  secret: string;
  /** The secret a rotation replaced, while its overlap lasts (the delivery is signed with both); null otherwise. */
  previousSecret: string | null;
  body: string;
  /** Counting the attempt being made now. */
  attempts: number;
}
