// ApiKeyService: AdminCreateApiKey, AdminGetApiKey, AdminListApiKeys,
// AdminUpdateApiKey, AdminDeleteApiKey, AdminRetireApiKey, AdminRotateApiKey,
// AdminGetApiKeyUsage (domain/usage-rollups.ts), RevokeApiKey (no key:
// domain/revoke-by-possession.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ApiKeyOrder, ApiKeyService, ApiKeyState } from "../../../gen/keyward/v1/api_keys_pb.js";
import type { ApiKeyOrderColumn } from "../../domain/key-order.js";
import type { ApiKeys } from "../../domain/api-keys.js";
import type { ApiKeyChanges } from "../../domain/model.js";
import { apiKeyToProto, constraintsFromProto, creditsFromProto, dateOf, durationMs, rateLimitsFromProto } from "../convert.js";
import type { PossessionRevoker } from "../../domain/revoke-by-possession.js";
import type { UsageRollups } from "../../domain/usage-rollups.js";
import { clientIpKey } from "../context.js";
import { updatePaths } from "../field-mask.js";
import { callerOf } from "../caller.js";

// Unspecified is today's creation order.
const ORDER_COLUMNS: Record<ApiKeyOrder, ApiKeyOrderColumn> = {
  [ApiKeyOrder.UNSPECIFIED]: "create_time",
  [ApiKeyOrder.NAME]: "name",
  [ApiKeyOrder.EXPIRE_TIME]: "expire_time",
  [ApiKeyOrder.LAST_USED_TIME]: "last_used_time",
  [ApiKeyOrder.CREATE_TIME]: "create_time",
};

export function apiKeyHandlers(keys: ApiKeys, revoker: PossessionRevoker, usage: UsageRollups): ServiceImpl<typeof ApiKeyService> {
  return {
    async adminCreateApiKey(req, ctx) {
      const { key, credentials } = await keys.create(callerOf(ctx), {
        name: req.name,
        policyId: req.policyId,
        expireTime: dateOf(req.expireTime),
        ttlMs: req.ttl ? durationMs(req.ttl) : undefined,
        allowedSubnets: req.allowedSubnets,
        constraints: constraintsFromProto("constraints", req.constraints),
        service: req.service || null,
        rateLimits: rateLimitsFromProto(req.rateLimits),
        credits: creditsFromProto("credits", req.credits),
        labels: req.labels,
      });
      return { apiKey: apiKeyToProto(key), credentials };
    },

    async adminGetApiKey(req) {
      return { apiKey: apiKeyToProto(await keys.get(req.id)) };
    },

    async adminGetApiKeyUsage(req) {
      const buckets = await usage.history(req.id || undefined, dateOf(req.startTime), dateOf(req.endTime));
      return {
        buckets: buckets.map((b) => ({
          hour: timestampFromDate(b.hour),
          counts: Object.fromEntries(Object.entries(b.counts).map(([code, count]) => [code, BigInt(count)])),
        })),
      };
    },

    async adminListApiKeys(req) {
      const page = await keys.list({
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        order: { column: ORDER_COLUMNS[req.orderBy], descending: req.descending },
        policyId: req.policyId,
        state: req.state === ApiKeyState.ACTIVE ? "active" : req.state === ApiKeyState.RETIRED ? "retired" : undefined,
        expiringWithinMs: req.expiringWithin ? durationMs(req.expiringWithin) : undefined,
        service: req.service,
        nameContains: req.nameContains,
        idleForMs: req.idleFor ? durationMs(req.idleFor) : undefined,
        labels: req.label,
      });
      return { apiKeys: page.keys.map(apiKeyToProto), nextPageToken: page.nextPageToken };
    },

    async adminUpdateApiKey(req, ctx) {
      const k = req.apiKey;
      const paths = updatePaths(req.updateMask, {
        name: !!k?.name,
        policy_id: !!k?.policyId,
        expire_time: !!k?.expireTime,
        allowed_subnets: !!k?.allowedSubnets.length,
        constraints: !!k?.constraints.length,
        service: !!k?.service,
        rate_limits: !!k?.rateLimits.length,
        credits: !!k?.credits,
        labels: Object.keys(k?.labels ?? {}).length > 0,
      });
      const changes: ApiKeyChanges = {};
      if (paths.has("name")) changes.name = k?.name ?? "";
      if (paths.has("policy_id")) changes.policyId = k?.policyId ?? "";
      if (paths.has("expire_time")) changes.expireTime = dateOf(k?.expireTime);
      if (paths.has("allowed_subnets")) changes.allowedSubnets = k?.allowedSubnets ?? [];
      if (paths.has("constraints")) changes.constraints = constraintsFromProto("api_key.constraints", k?.constraints ?? []);
      // An empty value under the mask clears it: the key then belongs to no service.
      if (paths.has("service")) changes.service = k?.service || null;
      // Named with no value: the key's own limits are cleared (its policy's then apply), or its credits (unlimited).
      if (paths.has("rate_limits")) changes.rateLimits = rateLimitsFromProto(k?.rateLimits ?? []);
      if (paths.has("credits")) changes.credits = creditsFromProto("api_key.credits", k?.credits);
      // The map is replaced whole; named with no value, every label goes.
      if (paths.has("labels")) changes.labels = { ...k?.labels };
      return { apiKey: apiKeyToProto(await keys.update(callerOf(ctx), k?.id ?? "", changes)) };
    },

    async adminDeleteApiKey(req, ctx) {
      await keys.delete(callerOf(ctx), req.id);
      return {};
    },

    async adminRetireApiKey(req, ctx) {
      return { apiKey: apiKeyToProto(await keys.retire(callerOf(ctx), req.id)) };
    },

    async adminRotateApiKey(req, ctx) {
      const overlapMs = req.overlap ? durationMs(req.overlap) : 0;
      const rotated = await keys.rotate(callerOf(ctx), req.id, overlapMs);
      return {
        apiKey: apiKeyToProto(rotated.key),
        credentials: rotated.credentials,
        previousExpireTime: rotated.previousExpireTime ? timestampFromDate(rotated.previousExpireTime) : undefined,
      };
    },

    async revokeApiKey(req, ctx) {
      await revoker.revoke(req.key, ctx.values.get(clientIpKey));
      // The same empty answer whatever the key was: it must tell nothing.
      return {};
    },
  };
}
