// PermissionService: AdminGetApiKeyPermissions, RegisterPermissions.
import type { ServiceImpl } from "@connectrpc/connect";
import { PermissionService } from "../../../gen/keyward/v1/permissions_pb.js";
import type { PermissionRegistry } from "../../domain/permission-registry.js";
import { permissionToProto } from "../convert.js";
import { callerOf } from "../caller.js";

export function permissionHandlers(registry: PermissionRegistry): ServiceImpl<typeof PermissionService> {
  return {
    async adminGetApiKeyPermissions() {
      return { permissions: (await registry.list()).map(permissionToProto) };
    },

    async registerPermissions(req, ctx) {
      const registered = await registry.register(
        callerOf(ctx),
        req.service,
        req.permissions.map((p) => ({ name: p.name, description: p.description })),
      );
      return { permissions: registered.map(permissionToProto) };
    },
  };
}
