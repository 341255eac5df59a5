// The client for Keyward's CheckKey and RegisterPermissions over gRPC: one
// grpc-js channel (one HTTP/2 connection, reused by every call), a deadline on
// every call, and a guard that fails closed: anything but a VALID answer from
// Keyward, including no answer, is a refusal.
import * as grpc from "@grpc/grpc-js";
import { VerdictCache, type VerdictCacheOptions } from "./verdict-cache.js";
import type { VerifiedKey } from "./verified-key.js";
import {
  decodeCheckKeyResponse,
  encodeCheckKeyRequest,
  encodeRegisterPermissionsRequest,
  type CheckKeyRequest,
  type CheckKeyResponse,
  type PermissionDefinition,
} from "./wire.js";

export interface KeywardClientOptions {
  /** Keyward's gRPC address, host:port (e.g. "keyward.internal:8080"). */
  address: string;
  /** This service's own Keyward key: it needs keyward.keys.check, and should belong to the service (to register it). */
  serviceKey: string;
  /** TLS credentials; plaintext when omitted (a sidecar or private network). */
  credentials?: grpc.ChannelCredentials;
  /** Deadline of one CheckKey call, ms. Default 2000. */
  checkTimeoutMs?: number;
  cache?: VerdictCacheOptions;
  /**
   * Told about each request Keyward refused, with the key's id when Keyward
   * knew it (never the key): for the service's own logs. A permission denial
   * names the missing permission here, which callers are never told.
   */
  onRefused?: (refusal: Refusal & { apiKeyId: string }, request: Omit<CheckKeyRequest, "key">) => void;
}

/** Why a request was refused, as the middlewares answer it. */
export type Refusal =
  /** No key, or Keyward does not accept it (unknown, expired, retired, malformed): 401 / UNAUTHENTICATED. */
  | { status: "unauthenticated"; reason: string }
  /**
   * A valid key that may not do this (permission, subnet or constraint): 403 / PERMISSION_DENIED.
   * `missingPermission`: for a permission denial by Keyward, the permission the key lacks. It is
   * for this service's operator (`onRefused`, logs); the middlewares never send it to the caller.
   */
  | { status: "permission_denied"; reason: string; missingPermission?: string }
  /** Keyward could not be asked or refused our own key: 503 / UNAVAILABLE. Fail closed. */
  | { status: "unavailable"; reason: string }
  /**
   * Over one of the key's rate limits, or out of credits: 429 / RESOURCE_EXHAUSTED.
   * `retryAfterSeconds`: when the key is let through again, if that is known.
   */
  | { status: "limited"; reason: string; retryAfterSeconds?: number };

export type Outcome = { ok: true; key: VerifiedKey } | ({ ok: false } & Refusal);

const CHECK_PATH = "/keyward.v1.CheckService/CheckKey";
const REGISTER_PATH = "/keyward.v1.PermissionService/RegisterPermissions";
const identity = (b: Uint8Array) => Buffer.from(b);
const raw = (b: Buffer) => b;

const REASONS: Record<string, string> = {
  MALFORMED: "the API key is malformed",
  NOT_FOUND: "the API key is not valid",
  EXPIRED: "the API key has expired",
  RETIRED: "the API key has been retired",
  SUBNET_DENIED: "the API key may not be used from this address",
  CONSTRAINT_DENIED: "the API key may not be used for this request",
  PERMISSION_DENIED: "the API key lacks a permission this request needs",
  RATE_LIMITED: "the API key is over its rate limit",
  USAGE_EXCEEDED: "the API key has no credits left",
};

export function outcomeOf(v: CheckKeyResponse, nowMs = Date.now()): Outcome {
  if (v.valid) {
    return {
      ok: true,
      key: {
        id: v.apiKeyId,
        name: v.apiKeyName,
        service: v.service,
        policy: { id: v.policyId, name: v.policyName, permissions: v.permissions },
        expireTimeMs: v.expireTimeMs || Number.MAX_SAFE_INTEGER,
      },
    };
  }
  if (v.code === "RATE_LIMITED" || v.code === "USAGE_EXCEEDED") {
    const limited: Outcome = { ok: false, status: "limited", reason: REASONS[v.code]! };
    if (v.resetTimeMs !== undefined) limited.retryAfterSeconds = Math.max(1, Math.ceil((v.resetTimeMs - nowMs) / 1000));
    return limited;
  }
  if (v.code === "PERMISSION_DENIED" && v.missingPermission !== "") {
    return { ok: false, status: "permission_denied", reason: REASONS[v.code]!, missingPermission: v.missingPermission };
  }
  const denied = v.code === "SUBNET_DENIED" || v.code === "CONSTRAINT_DENIED" || v.code === "PERMISSION_DENIED";
  return { ok: false, status: denied ? "permission_denied" : "unauthenticated", reason: REASONS[v.code] ?? "the API key is not valid" };
}

export class KeywardClient {
  private readonly channel: grpc.Client;
  private readonly serviceKey: string;
  private readonly checkTimeoutMs: number;
  readonly cache: VerdictCache;
  private readonly onRefused: KeywardClientOptions["onRefused"];

  constructor(options: KeywardClientOptions) {
    // One client is one channel: calls are multiplexed over its HTTP/2 connection.
    this.channel = new grpc.Client(options.address, options.credentials ?? grpc.credentials.createInsecure(), {
      "grpc.keepalive_time_ms": 30_000,
      "grpc.keepalive_timeout_ms": 10_000,
    });
    this.serviceKey = options.serviceKey;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 2000;
    this.cache = new VerdictCache(options.cache);
    this.onRefused = options.onRefused;
  }

  private metadata(): grpc.Metadata {
    const m = new grpc.Metadata();
    m.set("authorization", `Bearer ${this.serviceKey}`);
    return m;
  }

  private unary(path: string, body: Uint8Array, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.channel.makeUnaryRequest(path, identity, raw, body, this.metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err || !res ? reject(err ?? new Error("empty response")) : resolve(res),
      );
    });
  }

  /** Keyward's verdict on one request, straight from Keyward (no cache). Rejects when Keyward cannot answer. */
  async checkKey(request: CheckKeyRequest): Promise<CheckKeyResponse> {
    return decodeCheckKeyResponse(await this.unary(CHECK_PATH, encodeCheckKeyRequest(request), this.checkTimeoutMs));
  }

  /** The cached verdict for this request when a VALID one is fresh; synchronous, for the warm path. */
  cached(request: CheckKeyRequest): VerifiedKey | undefined {
    return this.cache.get(VerdictCache.digest(request));
  }

  /**
   * Whether to let this request through: a fresh cached VALID verdict, or
   * Keyward's answer. Never rejects: an error reaching Keyward is a refusal
   * (`unavailable`), so a protected service fails closed.
   */
  async check(request: CheckKeyRequest): Promise<Outcome> {
    if (request.key === "") return { ok: false, status: "unauthenticated", reason: "missing API key: send it as 'Authorization: Bearer <key>'" };
    const digest = VerdictCache.digest(request);
    const hit = this.cache.get(digest);
    if (hit) return { ok: true, key: hit };
    let verdict: CheckKeyResponse;
    try {
      verdict = await this.checkKey(request);
    } catch (err) {
      const code = (err as { code?: number }).code;
      const why = code === grpc.status.UNAUTHENTICATED || code === grpc.status.PERMISSION_DENIED ? "Keyward refused this service's own key" : "Keyward could not be reached";
      return { ok: false, status: "unavailable", reason: `cannot check the API key: ${why}` };
    }
    const outcome = outcomeOf(verdict);
    if (!outcome.ok && this.onRefused) {
      const { key: _secret, ...asked } = request;
      try {
        this.onRefused({ ...outcome, apiKeyId: verdict.apiKeyId }, asked);
      } catch {
        // A logging hook that throws must not turn a refusal into an error: check() never rejects.
      }
    }
    // A key with usage limits (the answer carries `remaining`) is never answered from the cache: each
    // request must reach Keyward to count against its rate limits and spend its credit.
    if (outcome.ok && verdict.remaining === undefined) this.cache.set(digest, outcome.key);
    return outcome;
  }

  /** Replaces `service`'s registered permissions (RegisterPermissions). */
  async registerPermissions(service: string, permissions: readonly PermissionDefinition[], timeoutMs = 5000): Promise<void> {
    await this.unary(REGISTER_PATH, encodeRegisterPermissionsRequest(service, permissions), timeoutMs);
  }

  close(): void {
    this.channel.close();
  }
}
