// WebhookService: AdminCreateWebhookEndpoint, AdminListWebhookEndpoints,
// AdminRotateWebhookEndpointSecret, AdminEnableWebhookEndpoint,
// AdminDeleteWebhookEndpoint, AdminListWebhookDeliveries.
import type { ServiceImpl } from "@connectrpc/connect";
import { WebhookService } from "../../../gen/keyward/v1/webhooks_pb.js";
import type { WebhookEndpoints } from "../../domain/webhooks.js";
import { durationMs, webhookDeliveryToProto, webhookEndpointToProto } from "../convert.js";
import { callerOf } from "../caller.js";

export function webhookHandlers(endpoints: WebhookEndpoints): ServiceImpl<typeof WebhookService> {
  return {
    async adminCreateWebhookEndpoint(req, ctx) {
      const { endpoint, secret } = await endpoints.create(callerOf(ctx), { url: req.url, eventTypes: req.eventTypes });
      return { webhookEndpoint: webhookEndpointToProto(endpoint), secret };
    },

    async adminListWebhookEndpoints() {
      return { webhookEndpoints: (await endpoints.list()).map(webhookEndpointToProto) };
    },

    async adminRotateWebhookEndpointSecret(req, ctx) {
      return { secret: await endpoints.rotateSecret(callerOf(ctx), req.id, req.overlap ? durationMs(req.overlap) : 0) };
    },

    async adminEnableWebhookEndpoint(req, ctx) {
      await endpoints.enable(callerOf(ctx), req.id);
      return {};
    },

    async adminDeleteWebhookEndpoint(req, ctx) {
      await endpoints.delete(callerOf(ctx), req.id);
      return {};
    },

    async adminListWebhookDeliveries(req) {
      return { webhookDeliveries: (await endpoints.deliveries(req.id, req.pageSize)).map(webhookDeliveryToProto) };
    },
  };
}
