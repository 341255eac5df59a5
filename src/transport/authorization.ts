// Which Keyward permission each RPC needs, read from the RPC's proto options
// (keyward.v1.required_permissions / any_valid_key / no_key, proto/keyward/v1/options.proto):
// the protos are the one source of truth for this table, Keyward's own
// registration (keyward-declarations.ts) and the README's permission table
// (checked by test/proto/keyward-options.test.ts). An RPC that declares
// nothing is refused (fail closed), so a new RPC cannot ship unguarded by accident.
import { getOption, hasOption, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Authorization as EnvoyAuthorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { any_valid_key, default_required_permissions, no_key, required_permissions } from "../../gen/keyward/v1/options_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import { KEYWARD_SERVICE, KeywardPermission, type KeywardPermissionName } from "../domain/keyward-permissions.js";

/**
 * No key: health and reflection (load balancers and API tools call them; they
 * reveal no data), and RPCs that declare no_key (RevokeApiKey: the key to
 * revoke is its own proof). A key sent with such a call is never read.
 */
export const PUBLIC = "public";
/** Any valid key; the handler decides the rest (a key may rotate itself; a service's key may register its service). */
export const AUTHENTICATED = "authenticated";

export type Requirement = KeywardPermissionName | typeof PUBLIC | typeof AUTHENTICATED;

/** Keyward's own services, whose RPCs declare their requirements in proto options; in the order the API documentation lists them. */
export const KEYWARD_SERVICES: readonly DescService[] = [ApiKeyService, PolicyService, PermissionService, CheckService, AuditService, WebhookService];

// Third-party protos we serve but cannot annotate: the only hand-written entries (these and Envoy's below).
const PUBLIC_SERVICES: readonly DescService[] = [Health, ReflectionV1, ReflectionV1alpha];

const KNOWN_NAMES = new Set<string>(Object.values(KeywardPermission));

/** Splits an option value listing permission names by commas or spaces. */
export const splitPermissionList = (value: string): string[] => value.split(/[\s,]+/).filter((s) => s !== "");

/** The requirement a Keyward RPC declares in its options; throws when the declaration is unusable (a build error, not a request error). */
export function declaredRequirement(method: DescMethod): Requirement | undefined {
  const anyKey = hasOption(method, any_valid_key) && getOption(method, any_valid_key);
  const noKey = hasOption(method, no_key) && getOption(method, no_key);
  const own = hasOption(method, required_permissions) ? splitPermissionList(getOption(method, required_permissions)) : [];
  const fallback = splitPermissionList(getOption(method.parent, default_required_permissions));
  const names = own.length > 0 ? own : anyKey ? [] : fallback;
  const where = `/${method.parent.typeName}/${method.name}`;
  if (anyKey && own.length > 0) throw new Error(`${where} declares both any_valid_key and required_permissions`);
  if (noKey && (anyKey || own.length > 0)) throw new Error(`${where} declares no_key with any_valid_key or required_permissions`);
  if (noKey) return PUBLIC;
  if (anyKey) return AUTHENTICATED;
  if (names.length === 0) return undefined;
  if (names.length > 1) throw new Error(`${where}: a Keyward RPC needs one permission, not ${names.join(", ")}`);
  const name = names[0]!;
  if (!KNOWN_NAMES.has(name) || !name.startsWith(`${KEYWARD_SERVICE}.`)) throw new Error(`${where} requires "${name}", which is not one of Keyward's permissions`);
  return name as KeywardPermissionName;
}

// Keyed by the procedure path, which names a method the same whichever descriptor object carries it.
export const procedureOf = (m: DescMethod): string => `/${m.parent.typeName}/${m.name}`;
const table = new Map<string, Requirement>();
for (const service of KEYWARD_SERVICES) {
  for (const method of service.methods) {
    const requirement = declaredRequirement(method);
    if (requirement !== undefined) table.set(procedureOf(method), requirement);
  }
}
for (const service of PUBLIC_SERVICES) for (const method of service.methods) table.set(procedureOf(method), PUBLIC);
// Envoy's ext_authz: a check made by the proxy in front of a service, with the proxy's own key.
table.set(procedureOf(EnvoyAuthorization.method.check), KeywardPermission.keysCheck);

export const requirementOf = (method: DescMethod): Requirement | undefined => table.get(procedureOf(method));

// The calls a running service makes with its own key. A secret replaced by a
// rotation keeps serving these during the overlap, so the service can switch
// without downtime; every other RPC refuses it (domain/principal.ts).
const serviceCalls = new Set([CheckService.method.checkKey, EnvoyAuthorization.method.check, PermissionService.method.registerPermissions].map(procedureOf));

/** Whether a caller presenting a rotated-out secret (during its overlap) may call this RPC. */
export const servesRotatedOutSecret = (method: DescMethod): boolean => serviceCalls.has(procedureOf(method));
