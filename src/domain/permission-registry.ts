// The permission registry: services declare the permissions they define.
import type { PermissionRecord } from "../storage/records.js";
import type { PermissionDefinition } from "../storage/repositories/permissions.js";
import type { Store } from "../storage/store.js";
import { audit, target } from "./audit.js";
import { InvalidArgumentError, PermissionDeniedError } from "./errors.js";
import { KEYWARD_SERVICE } from "./keyward-permissions.js";
import { PERMISSION_NAME_RULE, SERVICE_NAME_RULE, isServiceName, parsePermission } from "./grants.js";
import { SYSTEM, type Principal } from "./principal.js";
import { assertMayRegister } from "./service-ownership.js";

export class PermissionRegistry {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
  ) {}

  /** Every permission ever registered, with whether its service still registers it. */
  list(): Promise<PermissionRecord[]> {
    return this.store.permissions.list();
  }

  /**
   * Replaces `service`'s list of permissions with `definitions` (idempotent).
   * Permissions it no longer lists stay known, flagged unregistered.
   * Authorized here, not by the RPC's table: a key that belongs to a service
   * registers that one without any keyward permission.
   */
  async register(caller: Principal, service: string, definitions: readonly PermissionDefinition[]): Promise<PermissionRecord[]> {
    assertMayRegister(caller, service, "service");
    if (!isServiceName(service)) throw new InvalidArgumentError("service", SERVICE_NAME_RULE);
    if (service === KEYWARD_SERVICE && caller !== SYSTEM) {
      throw new PermissionDeniedError(`the service name "${KEYWARD_SERVICE}" is reserved for Keyward's own permissions`);
    }
    const seen = new Set<string>();
    definitions.forEach((d, i) => {
      const field = `permissions[${i}].name`;
      const parsed = parsePermission(d.name);
      if (!parsed) throw new InvalidArgumentError(field, `"${d.name}" ${PERMISSION_NAME_RULE}`);
      if (parsed.service !== service) {
        throw new InvalidArgumentError(field, `"${d.name}" must start with the registering service's name "${service}."`);
      }
      if (seen.has(d.name)) throw new InvalidArgumentError(field, `"${d.name}" is listed twice`);
      seen.add(d.name);
    });
    const now = this.now();
    await this.store.transaction(async (repos) => {
      await repos.permissions.replaceForService(service, definitions, now);
      // Keyward's own registration at every start is not an admin action.
      if (caller !== SYSTEM) {
        await audit(repos, caller, { action: "RegisterPermissions", target: target.service(service), changedFields: ["permissions"] }, now);
      }
    });
    return this.store.permissions.listForService(service);
  }
}
