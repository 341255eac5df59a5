// Standard Webhooks 1.0 signing: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
// keyed by the secret's bytes (the base64 after `whsec_`).
import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";

/** A new endpoint secret: 32 bytes from the CSPRNG, as `whsec_<base64>`. */
export const newWebhookSecret = (): string => `${PREFIX}${randomBytes(32).toString("base64")}`;

export function signature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(PREFIX.length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64")}`;
}

/**
 * The headers of one attempt; the timestamp is the attempt's, so receivers can
 * refuse replays. Each secret adds a signature, space-separated as the spec
 * allows: during a rotation's overlap the new secret's first, then the old one's,
 * so a receiver holding either accepts the delivery.
 */
export function signedHeaders(secrets: readonly string[], id: string, at: Date, body: string): Record<string, string> {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    "content-type": "application/json",
    "user-agent": "Keyward-Webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((secret) => signature(secret, id, timestamp, body)).join(" "),
  };
}
