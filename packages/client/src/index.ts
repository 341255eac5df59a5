// @keyward/client: protect a Node service with Keyward. See the README's
// "Protecting a Node service" section.
export { KeywardClient, outcomeOf, type KeywardClientOptions, type Outcome, type Refusal } from "./client.js";
export { VerdictCache, DEFAULT_TTL_MS, MAX_TTL_MS, type VerdictCacheOptions } from "./verdict-cache.js";
export { verifiedKey, type VerifiedKey } from "./verified-key.js";
export { ANY_VALID_KEY, declaredService, permissionsToRegister, splitNames, type ServiceDescriptor, type Requirement } from "./declarations.js";
export { registerPermissions, type RegisterOptions } from "./register.js";
export { keywardHttp, type HttpGuard, type HttpGuardOptions, type Routes } from "./http.js";
export { protectService, type GrpcGuardOptions } from "./grpc.js";
export { presentedKey, plainAddress } from "./request-parts.js";
export { loadProtoServices, type ParsedService } from "./proto-files.js";
export type { CheckKeyRequest, CheckKeyResponse, CheckCode, PermissionDefinition } from "./wire.js";
// The Connect interceptor is at "@keyward/client/connect", so grpc-js and plain HTTP users need no Connect packages.
