// The events Keyward announces to webhook endpoints (design §8), and `emit`,
// which writes one to the outbox: call it inside the transaction of the change
// it announces, so an event goes out exactly when its change commits.
// Event data names keys and policies by id, name and times; never a secret or hash.
import type { ApiKeyRecord, PolicyRecord } from "../storage/records.js";
import type { Repositories } from "../storage/store.js";
import type { Principal } from "./principal.js";
import { EVENT_TYPES } from "./event-types.js";
import { newId } from "./random.js";

export { EVENT_TYPES };

export type EventType = (typeof EVENT_TYPES)[number];

const KNOWN = new Set<string>(EVENT_TYPES);
export const isEventType = (value: string): value is EventType => KNOWN.has(value);

export type EventData = Record<string, unknown>;

/**
 * Queues `type` for every endpoint that wants it, as one delivery each, in the
 * caller's transaction. `data` is built only when some endpoint wants the
 * event, so a deployment without webhooks pays one indexed read per change.
 */
export async function emit(repos: Repositories, type: EventType, at: Date, data: () => EventData | Promise<EventData>): Promise<void> {
  const endpointIds = await repos.webhooks.endpointIdsFor(type);
  if (endpointIds.length === 0) return;
  const body = JSON.stringify({ type, timestamp: at.toISOString(), data: await data() });
  await repos.webhooks.insertDeliveries(endpointIds.map((endpointId) => ({ id: `msg_${newId()}`, endpointId, eventType: type, body, createTime: at })));
}

/** Who caused the event: the acting key (empty: Keyward itself) and where the call came from. */
export const actorOf = (caller: Principal) => ({ apiKeyId: caller.keyId, clientIp: caller.clientIp });

/** A key as events describe it: what it is, never its secret or hash. */
export const apiKeyData = (key: ApiKeyRecord) => ({
  id: key.id,
  name: key.name,
  policyId: key.policyId,
  service: key.service,
  state: key.state,
  expireTime: key.expireTime.toISOString(),
  createTime: key.createTime.toISOString(),
  updateTime: key.updateTime.toISOString(),
  retireTime: key.retireTime?.toISOString() ?? null,
  // Owner, team, ticket: what a receiver routes an expiry warning or a leak by.
  labels: key.labels,
});

export const policyData = (policy: PolicyRecord) => ({
  id: policy.id,
  name: policy.name,
  description: policy.description,
  permissions: policy.permissions,
  createTime: policy.createTime.toISOString(),
  updateTime: policy.updateTime.toISOString(),
});

/** Reads a key in the change's transaction, for an event about it (it exists: the change just wrote it). */
export async function keyNow(repos: Repositories, id: string): Promise<ApiKeyRecord> {
  const key = await repos.apiKeys.get(id);
  if (!key) throw new Error(`API key ${id} vanished inside its own transaction`);
  return key;
}
