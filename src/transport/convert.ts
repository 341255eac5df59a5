// Domain records ⇄ protobuf messages. Handlers call these and nothing else
// touches both worlds.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ApiKeySchema,
  ApiKeyState,
  ConstraintSchema,
  ConstraintType,
  type ApiKey,
  type Constraint,
} from "../../gen/keyward/v1/api_keys_pb.js";
import { PermissionSchema, type Permission } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicySchema, type Policy } from "../../gen/keyward/v1/policies_pb.js";
import {
  CreditRefillSchema,
  CreditsSchema,
  RateLimitSchema,
  RefillInterval,
  type Credits,
  type RateLimit,
} from "../../gen/keyward/v1/limits_pb.js";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "../domain/errors.js";
import type {
  ApiKeyRecord,
  AuditEventRecord,
  ConstraintKind,
  ConstraintRecord,
  CreditsRecord,
  PermissionRecord,
  RateLimitRecord,
  PolicyRecord,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
} from "../domain/model.js";
import { AuditEventSchema, type AuditEvent } from "../../gen/keyward/v1/audit_pb.js";
import {
  WebhookDeliverySchema,
  WebhookDeliveryState,
  WebhookEndpointSchema,
  type WebhookDelivery,
  type WebhookEndpoint,
} from "../../gen/keyward/v1/webhooks_pb.js";

const timestamp = (d: Date | null): Timestamp | undefined => (d ? timestampFromDate(d) : undefined);

/** A duration from a request, in milliseconds (negative ones are refused by the request's rules in proto/). */
export const durationMs = (d: Duration): number => Number(d.seconds) * 1000 + Math.trunc(d.nanos / 1_000_000);

/** A timestamp from a request; undefined when absent. */
export const dateOf = (t: Timestamp | undefined): Date | undefined => (t ? timestampDate(t) : undefined);

const CONSTRAINT_TYPE_OF: Record<ConstraintKind, ConstraintType> = {
  exact: ConstraintType.EXACT,
  prefix: ConstraintType.PREFIX,
  regex: ConstraintType.REGEX,
  verb: ConstraintType.VERB,
};

const CONSTRAINT_KIND_OF = new Map<ConstraintType, ConstraintKind>(
  Object.entries(CONSTRAINT_TYPE_OF).map(([kind, type]) => [type, kind as ConstraintKind]),
);

export function constraintsFromProto(field: string, constraints: readonly Constraint[]): ConstraintRecord[] {
  return constraints.map((c, i) => {
    const type = CONSTRAINT_KIND_OF.get(c.type);
    if (!type) throw new InvalidArgumentError(`${field}[${i}].type`, "must be EXACT, PREFIX, REGEX or VERB");
    return { type, value: c.value };
  });
}

export const rateLimitsFromProto = (limits: readonly RateLimit[]): RateLimitRecord[] =>
  limits.map((l) => ({ limit: Number(l.limit), periodMs: l.period ? durationMs(l.period) : 0 }));

const rateLimitsToProto = (limits: readonly RateLimitRecord[]): RateLimit[] =>
  limits.map((l) => create(RateLimitSchema, { limit: BigInt(l.limit), period: durationFromMs(l.periodMs) }));

/** Credits from a request; undefined (unset) = none. */
export function creditsFromProto(field: string, credits: Credits | undefined): CreditsRecord | null {
  if (!credits) return null;
  const refill = credits.refill;
  if (refill && refill.interval !== RefillInterval.DAY && refill.interval !== RefillInterval.MONTH) {
    throw new InvalidArgumentError(`${field}.refill.interval`, "must be DAY or MONTH");
  }
  return {
    remaining: Number(credits.remaining),
    refill: refill ? { amount: Number(refill.amount), interval: refill.interval === RefillInterval.DAY ? "day" : "month" } : null,
  };
}

const creditsToProto = (c: CreditsRecord | null): Credits | undefined =>
  c === null
    ? undefined
    : create(CreditsSchema, {
        remaining: BigInt(c.remaining),
        refill: c.refill
          ? create(CreditRefillSchema, { amount: BigInt(c.refill.amount), interval: c.refill.interval === "day" ? RefillInterval.DAY : RefillInterval.MONTH })
          : undefined,
      });

export const apiKeyToProto = (k: ApiKeyRecord): ApiKey =>
  create(ApiKeySchema, {
    id: k.id,
    name: k.name,
    policyId: k.policyId,
    expireTime: timestamp(k.expireTime),
    allowedSubnets: k.allowedSubnets,
    constraints: k.constraints.map((c) => create(ConstraintSchema, { type: CONSTRAINT_TYPE_OF[c.type], value: c.value })),
    state: k.state === "active" ? ApiKeyState.ACTIVE : ApiKeyState.RETIRED,
    createTime: timestamp(k.createTime),
    updateTime: timestamp(k.updateTime),
    lastUsedTime: timestamp(k.lastUsedTime),
    creatorKeyId: k.creatorKeyId ?? "",
    retireTime: timestamp(k.retireTime),
    retirerKeyId: k.retirerKeyId ?? "",
    service: k.service ?? "",
    rateLimits: rateLimitsToProto(k.rateLimits),
    credits: creditsToProto(k.credits),
    labels: { ...k.labels },
  });

export const policyToProto = (p: PolicyRecord): Policy =>
  create(PolicySchema, {
    id: p.id,
    name: p.name,
    description: p.description,
    permissions: p.permissions,
    createTime: timestamp(p.createTime),
    updateTime: timestamp(p.updateTime),
    apiKeyCount: p.apiKeyCount,
    rateLimits: rateLimitsToProto(p.rateLimits),
  });

export const permissionToProto = (p: PermissionRecord): Permission => create(PermissionSchema, p);

export const auditEventToProto = (e: AuditEventRecord): AuditEvent =>
  create(AuditEventSchema, { ...e, createTime: timestampFromDate(e.createTime) });

export const webhookEndpointToProto = (e: WebhookEndpointRecord): WebhookEndpoint =>
  create(WebhookEndpointSchema, {
    id: e.id,
    url: e.url,
    eventTypes: e.eventTypes,
    createTime: timestamp(e.createTime),
    disableTime: e.disableTime ? timestamp(e.disableTime) : undefined,
  });

const DELIVERY_STATE = { pending: WebhookDeliveryState.PENDING, delivered: WebhookDeliveryState.DELIVERED, failed: WebhookDeliveryState.FAILED } as const;

export const webhookDeliveryToProto = (d: WebhookDeliveryRecord): WebhookDelivery =>
  create(WebhookDeliverySchema, {
    id: d.id,
    eventType: d.eventType,
    state: DELIVERY_STATE[d.state],
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createTime: timestamp(d.createTime),
    nextAttemptTime: d.state === "pending" ? timestamp(d.nextAttemptTime) : undefined,
    deliverTime: timestamp(d.deliverTime),
  });
