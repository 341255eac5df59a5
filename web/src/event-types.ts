// The event types a webhook endpoint may subscribe to: the server's list
// (src/domain/events.ts, which the dashboard cannot import: it is server code);
// test/web/dashboard-admin.test.ts checks the two agree.
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
