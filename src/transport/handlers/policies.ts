// PolicyService: AdminGetApiKeyPolicies, AdminGetApiKeyPolicy,
// AdminCreateApiKeyPolicy, AdminUpdateApiKeyPolicy, AdminDeleteApiKeyPolicy.
import type { ServiceImpl } from "@connectrpc/connect";
import { PolicyService } from "../../../gen/keyward/v1/policies_pb.js";
import type { Policies } from "../../domain/policies.js";
import type { PolicyChanges } from "../../domain/model.js";
import { policyToProto, rateLimitsFromProto } from "../convert.js";
import { updatePaths } from "../field-mask.js";
import { callerOf } from "../caller.js";

export function policyHandlers(policies: Policies): ServiceImpl<typeof PolicyService> {
  return {
    async adminGetApiKeyPolicies(req) {
      const page = await policies.list({ pageSize: req.pageSize, pageToken: req.pageToken, nameContains: req.nameContains });
      return { policies: page.policies.map(policyToProto), nextPageToken: page.nextPageToken };
    },

    async adminGetApiKeyPolicy(req) {
      return { policy: policyToProto(await policies.get(req.id)) };
    },

    async adminCreateApiKeyPolicy(req, ctx) {
      const policy = await policies.create(callerOf(ctx), {
        name: req.name,
        description: req.description,
        permissions: req.permissions,
        rateLimits: rateLimitsFromProto(req.rateLimits),
      });
      return { policy: policyToProto(policy) };
    },

    async adminUpdateApiKeyPolicy(req, ctx) {
      const p = req.policy;
      const paths = updatePaths(req.updateMask, {
        name: !!p?.name,
        description: !!p?.description,
        permissions: !!p?.permissions.length,
        rate_limits: !!p?.rateLimits.length,
      });
      const changes: PolicyChanges = {};
      if (paths.has("name")) changes.name = p?.name ?? "";
      if (paths.has("description")) changes.description = p?.description ?? "";
      if (paths.has("permissions")) changes.permissions = p?.permissions ?? [];
      if (paths.has("rate_limits")) changes.rateLimits = rateLimitsFromProto(p?.rateLimits ?? []);
      return { policy: policyToProto(await policies.update(callerOf(ctx), p?.id ?? "", changes)) };
    },

    async adminDeleteApiKeyPolicy(req, ctx) {
      return { deletedApiKeyCount: await policies.delete(callerOf(ctx), req.id) };
    },
  };
}
