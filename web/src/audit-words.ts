// The audit log in words a person reads: an action (an RPC or Keyward's own
// work) as a phrase about its target, and a target's kind and id pulled apart so
// the page can show a name in place of the id. Unknown actions show as recorded.

export type TargetKind = "key" | "policy" | "service" | "webhook endpoint";

const KINDS: Record<string, TargetKind> = {
  api_keys: "key",
  policies: "policy",
  services: "service",
  webhook_endpoints: "webhook endpoint",
};

/** `api_keys/abc` → kind "key", id "abc"; undefined for an empty or unknown target. */
export function parseTarget(target: string): { kind: TargetKind; id: string } | undefined {
  const slash = target.indexOf("/");
  const kind = KINDS[target.slice(0, slash)];
  return slash > 0 && kind ? { kind, id: target.slice(slash + 1) } : undefined;
}

// A deletion's target is gone by the time the page reads it, and already worded
// "deleted key …": it is not said twice.
const deleted = (t: string) => (t.startsWith("deleted ") ? t : `deleted ${t}`);

// Each phrase wraps the target as the page words it ("key reporting-job").
const PHRASES: Record<string, (target: string) => string> = {
  AdminCreateApiKey: (t) => `created ${t}`,
  AdminUpdateApiKey: (t) => `edited ${t}`,
  AdminRotateApiKey: (t) => `rotated ${t}`,
  AdminRetireApiKey: (t) => `retired ${t}`,
  AdminDeleteApiKey: deleted,
  RevokeApiKey: (t) => `revoked ${t} by possession`,
  ReportLeakedApiKey: (t) => `retired ${t} (leak report)`,
  IdleRetireApiKey: (t) => `retired ${t} for idleness`,
  AdminCreateApiKeyPolicy: (t) => `created ${t}`,
  AdminUpdateApiKeyPolicy: (t) => `edited ${t}`,
  // Recorded for the policy and for each key deleted with it.
  AdminDeleteApiKeyPolicy: deleted,
  RegisterPermissions: (t) => `registered the permissions of ${t}`,
  AdminCreateWebhookEndpoint: (t) => `created ${t}`,
  AdminRotateWebhookEndpointSecret: (t) => `rotated the secret of ${t}`,
  AdminEnableWebhookEndpoint: (t) => `enabled ${t}`,
  AdminDeleteWebhookEndpoint: deleted,
  DisableFailingWebhookEndpoint: (t) => `disabled ${t} (deliveries kept failing)`,
  RecoverAdminKey: (t) => `recovered admin access: ${t}`,
};

/** The action as a phrase about `target` (already worded); the raw action and target when unknown. */
export function actionPhrase(action: string, target: string): string {
  const phrase = PHRASES[action];
  if (phrase) return phrase(target);
  return target ? `${action} ${target}` : action;
}
