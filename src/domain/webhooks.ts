// Webhook endpoints: created with a signing secret shown once, listed without
// it, its secret rotated with an overlap, enabled again after Keyward disabled
// it, deleted (which drops their pending deliveries), and their delivery log.
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from "../storage/records.js";
import type { Store } from "../storage/store.js";
import { audit, target } from "./audit.js";
import { InvalidArgumentError, NotFoundError } from "./errors.js";
import { EVENT_TYPES, isEventType } from "./events.js";
import { pageLimit } from "./limits.js";
import type { Principal } from "./principal.js";
import { newId } from "./random.js";
import { assertPublicDestination, parseWebhookUrl } from "./webhook-url.js";
import { newWebhookSecret } from "./webhook-signing.js";

export interface WebhookEndpointInput {
  url: string;
  /** Empty = every type. */
  eventTypes: string[];
}

/** The longest a replaced secret keeps signing beside the new one: long enough to roll out, short enough to bound a leak. */
export const MAX_SECRET_OVERLAP_MS = 7 * 86_400_000;

export class WebhookEndpoints {
  constructor(
    private readonly store: Store,
    private readonly allowPrivate: boolean,
    private readonly now: () => Date,
  ) {}

  /** Creates an endpoint; the returned secret is never available again. */
  async create(caller: Principal, input: WebhookEndpointInput): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
    input.eventTypes.forEach((type, i) => {
      if (!isEventType(type)) throw new InvalidArgumentError(`event_types[${i}]`, `"${type}" is not one of ${EVENT_TYPES.join(", ")}`);
    });
    const url = parseWebhookUrl("url", input.url, this.allowPrivate);
    await assertPublicDestination("url", url, this.allowPrivate);
    const endpoint: WebhookEndpointRecord = { id: newId(), url: url.href, eventTypes: [...new Set(input.eventTypes)], createTime: this.now(), disableTime: null };
    const secret = newWebhookSecret();
    await this.store.transaction(async (repos) => {
      await repos.webhooks.insertEndpoint(endpoint, secret, caller.keyId || null);
      // The secret is not a field anyone reads back, so the audit names only the others.
      await audit(repos, caller, { action: "AdminCreateWebhookEndpoint", target: target.webhookEndpoint(endpoint.id), changedFields: ["url", "event_types"] }, this.now());
    });
    return { endpoint, secret };
  }

  list(): Promise<WebhookEndpointRecord[]> {
    return this.store.webhooks.listEndpoints();
  }

  /**
   * Replaces the signing secret; the returned one is never available again.
   * For `overlapMs` (0 = not at all) deliveries carry a signature by each, so
   * receivers can switch without refusing any; a rotation during an overlap
   * ends it (only the secret just replaced goes on signing).
   */
  async rotateSecret(caller: Principal, id: string, overlapMs: number): Promise<string> {
    if (overlapMs < 0 || overlapMs > MAX_SECRET_OVERLAP_MS) throw new InvalidArgumentError("overlap", `must be between 0 and ${MAX_SECRET_OVERLAP_MS / 1000}s (7 days)`);
    const secret = newWebhookSecret();
    const now = this.now();
    await this.store.transaction(async (repos) => {
      if (!(await repos.webhooks.rotateSecret(id, secret, overlapMs > 0 ? new Date(now.getTime() + overlapMs) : null))) {
        throw new NotFoundError(`webhook endpoint "${id}" not found`);
      }
      await audit(repos, caller, { action: "AdminRotateWebhookEndpointSecret", target: target.webhookEndpoint(id), changedFields: ["secret"] }, now);
    });
    return secret;
  }

  /** Sends to an endpoint Keyward disabled again, from the next event on; its failing streak starts over. */
  async enable(caller: Principal, id: string): Promise<void> {
    await this.store.transaction(async (repos) => {
      if (!(await repos.webhooks.enable(id))) throw new NotFoundError(`webhook endpoint "${id}" not found`);
      await audit(repos, caller, { action: "AdminEnableWebhookEndpoint", target: target.webhookEndpoint(id), changedFields: ["disable_time"] }, this.now());
    });
  }

  async delete(caller: Principal, id: string): Promise<void> {
    await this.store.transaction(async (repos) => {
      if (!(await repos.webhooks.deleteEndpoint(id))) throw new NotFoundError(`webhook endpoint "${id}" not found`);
      await audit(repos, caller, { action: "AdminDeleteWebhookEndpoint", target: target.webhookEndpoint(id) }, this.now());
    });
  }

  /** Newest first, at most `pageSize` (default and bound as other lists). */
  async deliveries(id: string, pageSize: number): Promise<WebhookDeliveryRecord[]> {
    if (!(await this.store.webhooks.endpointExists(id))) throw new NotFoundError(`webhook endpoint "${id}" not found`);
    return this.store.webhooks.listDeliveries(id, pageLimit(pageSize));
  }
}
