// Every RPC of Keyward, composed in one place. The handler of an RPC lives in
// handlers/<group>.ts, named after its service.
import type { ConnectRouter } from "@connectrpc/connect";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import type { ApiKeys } from "../domain/api-keys.js";
import type { AuditLog } from "../domain/audit.js";
import type { KeyChecker } from "../domain/check.js";
import type { Policies } from "../domain/policies.js";
import type { PermissionRegistry } from "../domain/permission-registry.js";
import type { LeakReports } from "../domain/leak-reports.js";
import type { PossessionRevoker } from "../domain/revoke-by-possession.js";
import type { UsageRollups } from "../domain/usage-rollups.js";
import type { WebhookEndpoints } from "../domain/webhooks.js";
import { apiKeyHandlers } from "./handlers/api-keys.js";
import { auditHandlers } from "./handlers/audit.js";
import { checkHandlers } from "./handlers/check.js";
import { extAuthzHandlers } from "./handlers/ext-authz.js";
import { healthHandlers } from "./handlers/health.js";
import { permissionHandlers } from "./handlers/permissions.js";
import { policyHandlers } from "./handlers/policies.js";
import { reflectionHandlers } from "./handlers/reflection.js";
import { webhookHandlers } from "./handlers/webhooks.js";
import { KEYWARD_SERVICES } from "./authorization.js";
import type { Metrics } from "./metrics.js";
import type { Readiness } from "./readiness.js";


export interface DomainServices {
  apiKeys: ApiKeys;
  policies: Policies;
  registry: PermissionRegistry;
  checker: KeyChecker;
  audit: AuditLog;
  revoker: PossessionRevoker;
  /** Checks per hour, key and verdict: counted by every path that answers a check, read by the usage RPC. */
  usage: UsageRollups;
  webhooks: WebhookEndpoints;
  /** Signed leak reports (plain HTTP, transport/leak-reports.ts); undefined when no scanner's key is configured. */
  leakReports: LeakReports | undefined;
}

export const routes = (services: DomainServices, readiness: Readiness, metrics: Metrics) => (router: ConnectRouter) => {
  router.service(ApiKeyService, apiKeyHandlers(services.apiKeys, services.revoker, services.usage));
  router.service(PolicyService, policyHandlers(services.policies));
  router.service(PermissionService, permissionHandlers(services.registry));
  router.service(CheckService, checkHandlers(services.checker, metrics, services.usage));
  router.service(AuditService, auditHandlers(services.audit));
  router.service(WebhookService, webhookHandlers(services.webhooks));
  router.service(Health, healthHandlers(readiness));
  // Envoy's ext_authz API (design §10): served and reflected, but not Keyward's own API (no REST routes, no API docs).
  router.service(Authorization, extAuthzHandlers(services.checker, metrics, services.usage));
  const reflection = reflectionHandlers([...KEYWARD_SERVICES, Health, Authorization]);
  router.service(ReflectionV1, reflection.v1);
  router.service(ReflectionV1alpha, reflection.v1alpha);
};
