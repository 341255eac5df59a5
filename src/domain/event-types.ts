// The event types Keyward announces (design §8), in a module of their own with
// no imports, so the dashboard bundles this very list instead of a copy.
export const EVENT_TYPES = [
  "api_key.created",
  "api_key.updated",
  "api_key.rotated",
  "api_key.retired",
  "api_key.deleted",
  "api_key.expiring",
  "api_key.expired",
  "api_key.idle_retired",
  "api_key.leaked",
  "policy.created",
  "policy.updated",
  "policy.deleted",
] as const;
