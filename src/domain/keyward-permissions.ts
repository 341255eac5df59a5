// Keyward's own permissions, registered under the service `keyward` at start.
export const KEYWARD_SERVICE = "keyward";

export const KeywardPermission = {
  apiKeysRead: "keyward.api_keys.read",
  apiKeysWrite: "keyward.api_keys.write",
  policiesRead: "keyward.policies.read",
  policiesWrite: "keyward.policies.write",
  permissionsRead: "keyward.permissions.read",
  permissionsRegister: "keyward.permissions.register",
  keysCheck: "keyward.keys.check",
  auditRead: "keyward.audit.read",
} as const;

export type KeywardPermissionName = (typeof KeywardPermission)[keyof typeof KeywardPermission];

export const KEYWARD_PERMISSION_DEFINITIONS: ReadonlyArray<{ name: KeywardPermissionName; description: string }> = [
  { name: KeywardPermission.apiKeysRead, description: "Read API keys (never their secrets)" },
  { name: KeywardPermission.apiKeysWrite, description: "Create, update, rotate, retire and delete API keys" },
  { name: KeywardPermission.policiesRead, description: "Read policies" },
  { name: KeywardPermission.policiesWrite, description: "Create, update and delete policies" },
  { name: KeywardPermission.permissionsRead, description: "List registered permissions" },
  { name: KeywardPermission.permissionsRegister, description: "Register a service's permissions" },
  { name: KeywardPermission.keysCheck, description: "Check keys presented to a service (CheckKey)" },
  { name: KeywardPermission.auditRead, description: "Read the audit log" },
];
