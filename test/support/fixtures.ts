// Small builders shared by the API suites.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";
import { GrpcClient } from "../../harness/clients.js";
import type { RunningKeyward } from "./keyward.js";

export interface Clients {
  keys: GrpcClient<typeof ApiKeyService>;
  policies: GrpcClient<typeof PolicyService>;
  permissions: GrpcClient<typeof PermissionService>;
  check: GrpcClient<typeof CheckService>;
  close(): void;
}

export function grpcClients(port: number): Clients {
  const clients = {
    keys: new GrpcClient(ApiKeyService, port),
    policies: new GrpcClient(PolicyService, port),
    permissions: new GrpcClient(PermissionService, port),
    check: new GrpcClient(CheckService, port),
  };
  return { ...clients, close: () => Object.values(clients).forEach((c) => c.close()) };
}

/** One call to the REST gateway (/api/v1) with `key`, the admin key unless given: its status and parsed body. */
export async function restCall(kw: RunningKeyward, method: string, path: string, body?: unknown, key = kw.adminKey): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${kw.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** An expiry `ms` from the server's clock. */
export const expiresIn = (kw: RunningKeyward, ms: number) => timestampFromDate(new Date(kw.clock.now().getTime() + ms));

export const DAY = 86_400_000;

let counter = 0;
/** A name unique within the test run. */
export const uniqueName = (base: string): string => `${base}-${++counter}`;

/** Creates a key named `name` on `policyId` with the admin key, expiring `ttlMs` from the server's clock. */
export const keyOnPolicy = (kw: RunningKeyward, c: Clients, policyId: string, name: string, ttlMs = DAY, more: Record<string, unknown> = {}) =>
  c.keys.call(ApiKeyService.method.adminCreateApiKey, { name, policyId, expireTime: expiresIn(kw, ttlMs), ...more }, kw.adminKey);

/** Creates a policy and a key on it with the admin key; returns the key's id and credentials. */
export async function keyWithPermissions(
  kw: RunningKeyward,
  c: Clients,
  permissions: string[],
): Promise<{ id: string; credentials: string; policyId: string }> {
  const { policy } = await c.policies.call(
    PolicyService.method.adminCreateApiKeyPolicy,
    { name: uniqueName("policy"), permissions },
    kw.adminKey,
  );
  const created = await keyOnPolicy(kw, c, policy!.id, uniqueName("key"));
  return { id: created.apiKey!.id, credentials: created.credentials, policyId: policy!.id };
}

/**
 * Waits until Keyward has recorded the answer to its first attempt at the
 * endpoint's first delivery. The receiver has the request before Keyward has
 * its answer: a test clock moved in between would date the outcome after the jump.
 */
export async function firstAttemptRecorded(hooks: GrpcClient<typeof WebhookService>, endpointId: string, adminKey: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [delivery] = (await hooks.call(WebhookService.method.adminListWebhookDeliveries, { id: endpointId }, adminKey)).webhookDeliveries;
    if (delivery !== undefined && delivery.lastStatusCode !== 0) return;
    if (Date.now() > deadline) throw new Error(`no attempt recorded for webhook endpoint ${endpointId}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `buf curl` over gRPC (as grpcurl would call Keyward, with what reflection
 * describes and no .proto files): its output. The package's own launcher, not
 * npx, which would start another Node.js first (~0.7 s a call).
 */
export async function bufCurl(...args: string[]): Promise<string> {
  const buf = fileURLToPath(new URL("../../node_modules/.bin/buf", import.meta.url));
  const { stdout } = await promisify(execFile)(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args]);
  return stdout;
}
