// Which services a caller may speak for (design §2): a key that belongs to a
// service may register only that service's permissions. Binding a key to a
// service hands it that power, so only a caller that has it may do so.
import { InvalidArgumentError, PermissionDeniedError } from "./errors.js";
import { KEYWARD_SERVICE, KeywardPermission } from "./keyward-permissions.js";
import { SERVICE_NAME_RULE, entriesGrant, isServiceName, parsePermission } from "./grants.js";
import { withinConstraints, type Principal } from "./principal.js";

const REGISTER = parsePermission(KeywardPermission.permissionsRegister)!;

/** A key's `service` from a request: a service name, or null for none. */
export function checkKeyService(field: string, value: string | null): string | null {
  if (value === null) return null;
  if (!isServiceName(value)) throw new InvalidArgumentError(field, SERVICE_NAME_RULE);
  if (value === KEYWARD_SERVICE) throw new InvalidArgumentError(field, `"${KEYWARD_SERVICE}" is reserved for Keyward itself`);
  return value;
}

/**
 * The caller may register `service`'s permissions. A key that belongs to a
 * service may register that one (it needs no keyward permission for it: a
 * service's key holds keyward.keys.check only) and no other, whatever its
 * policy holds. A key that belongs to none needs keyward.permissions.register.
 */
export function assertMayRegister(caller: Principal, service: string, field: string): void {
  // Keyward's API judges a key's constraints against the request, as for every other RPC.
  if (!withinConstraints(caller)) throw new PermissionDeniedError("this key may not be used for this request");
  if (caller.service !== null) {
    if (service !== caller.service) {
      throw new PermissionDeniedError(`${field}: this key belongs to the service "${caller.service}" and may register only "${caller.service}"`);
    }
    return;
  }
  if (!entriesGrant(caller.grants, REGISTER, true)) {
    throw new PermissionDeniedError(`${field}: this key belongs to no service, and its policy does not hold ${KeywardPermission.permissionsRegister}`);
  }
}

/**
 * The rule for a key's `service` on create and update. Narrowing (as for
 * subnets and constraints): a caller that belongs to a service creates,
 * changes and rotates only keys that belong to that same service, since a key
 * of no service, or of another, may register what the caller may not.
 * Binding a key to a service (`changed`) needs a caller that could register
 * that service itself. Clearing it needs nothing more: a key of no service
 * registers only if its policy holds keyward.permissions.register, which the
 * caller then holds too (no escalation).
 */
export function assertMayGiveService(caller: Principal, service: string | null, changed: boolean, field: string): void {
  if (caller.service !== null && service !== caller.service) {
    throw new PermissionDeniedError(`${field}: your own key belongs to the service "${caller.service}"; the keys you create or change must belong to it too`);
  }
  if (changed && service !== null) assertMayRegister(caller, service, field);
}
