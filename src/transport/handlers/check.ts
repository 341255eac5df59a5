// CheckService: CheckKey, the hot path of every internal service.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { CheckCode, CheckKeyResponseSchema, CheckService, type CheckKeyResponse } from "../../../gen/keyward/v1/check_pb.js";
import type { KeyChecker, Verdict } from "../../domain/check.js";
import type { Metrics } from "../metrics.js";

const CODE: Record<Verdict["code"], CheckCode> = {
  VALID: CheckCode.VALID,
  MALFORMED: CheckCode.MALFORMED,
  NOT_FOUND: CheckCode.NOT_FOUND,
  EXPIRED: CheckCode.EXPIRED,
  RETIRED: CheckCode.RETIRED,
  SUBNET_DENIED: CheckCode.SUBNET_DENIED,
  CONSTRAINT_DENIED: CheckCode.CONSTRAINT_DENIED,
  PERMISSION_DENIED: CheckCode.PERMISSION_DENIED,
};

// A VALID answer depends only on the cached key and policy records: build it
// once per cache entry (their objects), not once per check.
const validAnswers = new WeakMap<object, { policy: object; response: CheckKeyResponse }>();

export function verdictToProto(verdict: Verdict): CheckKeyResponse {
  switch (verdict.code) {
    case "VALID": {
      const known = validAnswers.get(verdict.key);
      if (known && known.policy === verdict.policy) return known.response;
      const response = create(CheckKeyResponseSchema, {
        valid: true,
        code: CheckCode.VALID,
        apiKeyId: verdict.key.id,
        apiKeyName: verdict.key.name,
        policyId: verdict.policy.id,
        policyName: verdict.policy.name,
        permissions: verdict.policy.permissions,
        expireTime: timestampFromDate(verdict.key.expireTime),
      });
      validAnswers.set(verdict.key, { policy: verdict.policy, response });
      return response;
    }
    case "MALFORMED":
    case "NOT_FOUND":
      return create(CheckKeyResponseSchema, { valid: false, code: CODE[verdict.code] });
    default:
      return create(CheckKeyResponseSchema, { valid: false, code: CODE[verdict.code], apiKeyId: verdict.keyId });
  }
}

export function checkHandlers(checker: KeyChecker, metrics: Metrics): ServiceImpl<typeof CheckService> {
  // One counter per verdict code, bound once (and exported at 0 from the start), not looked up by label per check.
  const counted = Object.fromEntries(Object.keys(CODE).map((code) => [code, metrics.checks.labels({ code })])) as Record<Verdict["code"], { inc(): void }>;
  return {
    async checkKey(req) {
      const verdict = await checker.check({
        key: req.key,
        permissions: req.permissions,
        method: req.method,
        path: req.path,
        clientIp: req.clientIp,
      });
      counted[verdict.code].inc();
      return verdictToProto(verdict);
    },
  };
}
