// The records the domain reads and hands out (keys, policies, permissions,
// audit events, webhooks), for the layers above it: transport converts them to
// messages without reaching past the domain into storage. Storage defines
// them once (storage/records.ts, types only); this names them, all of them.
export type * from "../storage/records.js";
// The changes an admin asks for, as the domain takes them and storage writes them.
export type { ApiKeyChanges } from "../storage/repositories/api-keys.js";
export type { PolicyChanges } from "../storage/repositories/policies.js";
export type { PermissionDefinition } from "../storage/repositories/permissions.js";
