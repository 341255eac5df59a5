// CheckService: CheckKey, the hot path of every internal service.
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { CheckCode, CheckKeyResponseSchema, CheckService, type CheckKeyRequest, type CheckKeyResponse } from "../../../gen/keyward/v1/check_pb.js";
import type { CheckRequest, KeyChecker, Verdict } from "../../domain/check.js";
import type { UsageRollups } from "../../domain/usage-rollups.js";
import type { Metrics } from "../metrics.js";
import { usageFieldBytes } from "./usage-wire.js";

const CODE: Record<Verdict["code"], CheckCode> = {
  VALID: CheckCode.VALID,
  MALFORMED: CheckCode.MALFORMED,
  NOT_FOUND: CheckCode.NOT_FOUND,
  EXPIRED: CheckCode.EXPIRED,
  RETIRED: CheckCode.RETIRED,
  SUBNET_DENIED: CheckCode.SUBNET_DENIED,
  CONSTRAINT_DENIED: CheckCode.CONSTRAINT_DENIED,
  PERMISSION_DENIED: CheckCode.PERMISSION_DENIED,
  RATE_LIMITED: CheckCode.RATE_LIMITED,
  USAGE_EXCEEDED: CheckCode.USAGE_EXCEEDED,
};

/**
 * What a VALID answer needs, held for as long as its cache entry: one
 * exact-size buffer each. The message Connect's path needs is made on its
 * first use, so a key checked only over the gRPC fast path holds no more.
 */
interface ValidAnswer {
  policy: object;
  /** The encoded answer in its gRPC envelope, for the HTTP/2 fast path (check-grpc.ts). */
  grpcFrame: Buffer;
  response?: CheckKeyResponse;
}

/** A message in a gRPC envelope: flag 0 (not compressed), big-endian length, the bytes. */
export function grpcEnvelope(bytes: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + bytes.length);
  return envelopeInto(frame, bytes);
}

function envelopeInto(frame: Buffer, bytes: Uint8Array): Buffer {
  frame[0] = 0;
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

// A VALID answer depends only on the cached key and policy records: build it
// once per cache entry (their objects), not once per check.
const validAnswers = new WeakMap<object, ValidAnswer>();

function responseOf(verdict: Extract<Verdict, { code: "VALID" }>): CheckKeyResponse {
  return create(CheckKeyResponseSchema, {
    valid: true,
    code: CheckCode.VALID,
    apiKeyId: verdict.key.id,
    apiKeyName: verdict.key.name,
    policyId: verdict.policy.id,
    policyName: verdict.policy.name,
    permissions: verdict.policy.permissions,
    expireTime: timestampFromMs(verdict.key.expireTimeMs),
    service: verdict.key.service ?? "",
  });
}

function validAnswer(verdict: Extract<Verdict, { code: "VALID" }>): ValidAnswer {
  let answer = validAnswers.get(verdict.key);
  if (!answer || answer.policy !== verdict.policy) {
    const bytes = toBinary(CheckKeyResponseSchema, responseOf(verdict));
    // Its own memory, not a slice of Node's shared 8 KiB pool (Buffer.allocUnsafe):
    // a long-lived slice keeps the whole pool, and the garbage cut from it
    // around, alive; that was about 2.6 KiB per cached key (issue #16).
    answer = { policy: verdict.policy, grpcFrame: envelopeInto(Buffer.allocUnsafeSlow(5 + bytes.length), bytes) };
    validAnswers.set(verdict.key, answer);
  }
  return answer;
}

/**
 * The answer to a check in a gRPC envelope; a VALID one is encoded once per
 * cache entry, and a key with usage limits has its two usage fields appended.
 */
export function checkAnswerFrame(verdict: Verdict): Buffer {
  if (verdict.code !== "VALID") return grpcEnvelope(toBinary(CheckKeyResponseSchema, verdictToProto(verdict)));
  const answer = validAnswer(verdict);
  if (verdict.usage === undefined) return answer.grpcFrame;
  const usage = usageFieldBytes(verdict.usage.remaining, verdict.usage.resetTimeMs);
  const answerLength = answer.grpcFrame.length - 5;
  const length = answerLength + usage.length;
  const frame = Buffer.allocUnsafe(5 + length);
  frame[0] = 0;
  frame.writeUInt32BE(length, 1);
  answer.grpcFrame.copy(frame, 5, 5);
  frame.set(usage, 5 + answerLength);
  return frame;
}

const usageFields = (usage: { remaining: number; resetTimeMs: number | null }) => ({
  remaining: BigInt(Math.max(0, Math.floor(usage.remaining))),
  resetTime: usage.resetTimeMs === null ? undefined : timestampFromDate(new Date(usage.resetTimeMs)),
});

/** The answer to a check, as a message (Connect's path encodes it for the caller's codec). */
function verdictToProto(verdict: Verdict): CheckKeyResponse {
  switch (verdict.code) {
    case "VALID": {
      const response = (validAnswer(verdict).response ??= responseOf(verdict));
      return verdict.usage === undefined ? response : create(CheckKeyResponseSchema, { ...response, ...usageFields(verdict.usage) });
    }
    case "MALFORMED":
    case "NOT_FOUND":
      return create(CheckKeyResponseSchema, { valid: false, code: CODE[verdict.code] });
    case "RATE_LIMITED":
    case "USAGE_EXCEEDED":
      return create(CheckKeyResponseSchema, { valid: false, code: CODE[verdict.code], apiKeyId: verdict.keyId, ...usageFields(verdict.usage) });
    case "PERMISSION_DENIED":
      return create(CheckKeyResponseSchema, { valid: false, code: CODE[verdict.code], apiKeyId: verdict.keyId, missingPermission: verdict.missing });
    default:
      return create(CheckKeyResponseSchema, { valid: false, code: CODE[verdict.code], apiKeyId: verdict.keyId });
  }
}

/**
 * Counts a check's verdict, in the metric and in the hourly usage rollups
 * (in the hour of `at`, the time the check was judged at).
 * One metric counter per code, bound once (and exported at 0 from the start),
 * not looked up by label per check.
 */
export function verdictCounter(metrics: Metrics, usage: UsageRollups): (verdict: Verdict, at: Date) => void {
  const counters = Object.fromEntries(Object.keys(CODE).map((code) => [code, metrics.checks.labels({ code })])) as Record<Verdict["code"], { inc(): void }>;
  return (verdict, at) => {
    counters[verdict.code].inc();
    usage.record(verdict, at);
  };
}

/** The request as the domain takes it (the same fields on every path to CheckKey). */
export const checkRequestOf = (req: CheckKeyRequest): CheckRequest => ({
  key: req.key,
  permissions: req.permissions,
  method: req.method,
  path: req.path,
  clientIp: req.clientIp,
  cost: req.cost,
});

export function checkHandlers(checker: KeyChecker, metrics: Metrics, usage: UsageRollups): ServiceImpl<typeof CheckService> {
  const count = verdictCounter(metrics, usage);
  return {
    async checkKey(req) {
      const now = checker.now();
      const verdict = await checker.check(checkRequestOf(req), now);
      count(verdict, now);
      return verdictToProto(verdict);
    },
  };
}
