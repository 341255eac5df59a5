// The names of Keyward's own permissions that its domain rules refer to. Their
// descriptions, and which RPC needs which, are declared in Keyward's protos
// (keyward.v1.permission, keyward.v1.required_permissions); start-up refuses
// to run if a name here is not declared there (transport/keyward-declarations.ts).
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
  webhooksRead: "keyward.webhooks.read",
  webhooksWrite: "keyward.webhooks.write",
} as const;

export type KeywardPermissionName = (typeof KeywardPermission)[keyof typeof KeywardPermission];
