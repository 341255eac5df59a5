// Which Keyward permission each RPC needs. An RPC missing from this table is
// refused (fail closed), so a new RPC cannot ship unguarded by accident.
import type { DescMethod } from "@bufbuild/protobuf";
import { Authorization as EnvoyAuthorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { KeywardPermission, type KeywardPermissionName } from "../domain/keyward-permissions.js";

/** Health and reflection need no key: load balancers and API tools call them; they reveal no data. */
export const PUBLIC = "public";
/** Any valid key; the handler decides the rest (a key may rotate itself; a service's key may register its service). */
export const AUTHENTICATED = "authenticated";

export type Requirement = KeywardPermissionName | typeof PUBLIC | typeof AUTHENTICATED;

const P = KeywardPermission;
const entries: Array<[DescMethod, Requirement]> = [
  [ApiKeyService.method.adminCreateApiKey, P.apiKeysWrite],
  [ApiKeyService.method.adminGetApiKey, P.apiKeysRead],
  [ApiKeyService.method.adminListApiKeys, P.apiKeysRead],
  [ApiKeyService.method.adminUpdateApiKey, P.apiKeysWrite],
  [ApiKeyService.method.adminDeleteApiKey, P.apiKeysWrite],
  [ApiKeyService.method.adminRetireApiKey, P.apiKeysWrite],
  [ApiKeyService.method.adminRotateApiKey, AUTHENTICATED],
  [PolicyService.method.adminGetApiKeyPolicies, P.policiesRead],
  [PolicyService.method.adminCreateApiKeyPolicy, P.policiesWrite],
  [PolicyService.method.adminUpdateApiKeyPolicy, P.policiesWrite],
  [PolicyService.method.adminDeleteApiKeyPolicy, P.policiesWrite],
  [PermissionService.method.adminGetApiKeyPermissions, P.permissionsRead],
  // A service's own key registers its service with no keyward permission; any
  // other key needs keyward.permissions.register: PermissionRegistry.register decides.
  [PermissionService.method.registerPermissions, AUTHENTICATED],
  [AuditService.method.adminListAuditEvents, P.auditRead],
  [CheckService.method.checkKey, P.keysCheck],
  // Envoy's ext_authz: a check made by the proxy in front of a service, with the proxy's own key.
  [EnvoyAuthorization.method.check, P.keysCheck],
  [Health.method.check, PUBLIC],
  [Health.method.watch, PUBLIC],
  [Health.method.list, PUBLIC],
  [ReflectionV1.method.serverReflectionInfo, PUBLIC],
  [ReflectionV1alpha.method.serverReflectionInfo, PUBLIC],
];

// Keyed by the procedure path, which names a method the same whichever descriptor object carries it.
const procedureOf = (m: DescMethod): string => `/${m.parent.typeName}/${m.name}`;
const table = new Map(entries.map(([method, requirement]) => [procedureOf(method), requirement]));

export const requirementOf = (method: DescMethod): Requirement | undefined => table.get(procedureOf(method));

// The calls a running service makes with its own key. A secret replaced by a
// rotation keeps serving these during the overlap, so the service can switch
// without downtime; every other RPC refuses it (domain/principal.ts).
const serviceCalls = new Set([CheckService.method.checkKey, EnvoyAuthorization.method.check, PermissionService.method.registerPermissions].map(procedureOf));

/** Whether a caller presenting a rotated-out secret (during its overlap) may call this RPC. */
export const servesRotatedOutSecret = (method: DescMethod): boolean => serviceCalls.has(procedureOf(method));
