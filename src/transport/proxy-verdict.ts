// How a key's verdict reads to a reverse proxy in front of a service. HTTP
// forward auth (forward-auth.ts) and Envoy's ext_authz (handlers/ext-authz.ts)
// answer alike: the same statuses, bodies and x-keyward-* headers.
import { create } from "@bufbuild/protobuf";
import type { Validator } from "@bufbuild/protovalidate";
import { CheckKeyRequestSchema } from "../../gen/keyward/v1/check_pb.js";
import type { Verdict } from "../domain/check.js";
import { InvalidArgumentError } from "../domain/errors.js";
import { requestValidator } from "./interceptors.js";

export type ValidVerdict = Extract<Verdict, { code: "VALID" }>;

/**
 * 200 lets the request through; 401 asks the client for a working key (none,
 * malformed, unknown, expired, retired); 403 refuses this key for this request
 * (its subnets, constraints or permissions); 429 tells the client to slow down
 * or wait (over a rate limit, or out of credits: for both, retrying later is
 * what helps, and Retry-After says when, if ever, credits come back).
 */
export function proxyStatusOf(code: Verdict["code"]): 200 | 401 | 403 | 429 {
  switch (code) {
    case "VALID":
      return 200;
    case "MALFORMED":
    case "NOT_FOUND":
    case "EXPIRED":
    case "RETIRED":
      return 401;
    case "SUBNET_DENIED":
    case "CONSTRAINT_DENIED":
    case "PERMISSION_DENIED":
      return 403;
    case "RATE_LIMITED":
    case "USAGE_EXCEEDED":
      return 429;
  }
}

/**
 * The headers of a usage-limit denial: `x-keyward-code` naming it (nginx reads
 * headers, not bodies, of an auth answer) and `retry-after`, whole seconds
 * until `remaining` next grows (at least 1), absent when it never will (credits
 * without a refill). None for any other verdict.
 */
export function limitHeaders(verdict: Verdict, nowMs: number): Array<[name: string, value: string]> {
  if (verdict.code !== "RATE_LIMITED" && verdict.code !== "USAGE_EXCEEDED") return [];
  const headers: Array<[string, string]> = [["x-keyward-code", `CHECK_CODE_${verdict.code}`]];
  const reset = verdict.usage.resetTimeMs;
  if (reset !== null) headers.push(["retry-after", String(Math.max(1, Math.ceil((reset - nowMs) / 1000)))]);
  return headers;
}

// The body names the verdict as CheckKey's JSON does (keyward.v1.CheckCode); a
// denial says nothing else, since the proxy may show it to the client.
const BODIES = new Map<Verdict["code"], string>();
/** `{"valid":…,"code":"CHECK_CODE_…"}`: the verdict, as the proxy's JSON body. */
export function verdictBody(code: Verdict["code"]): string {
  let body = BODIES.get(code);
  if (body === undefined) BODIES.set(code, (body = JSON.stringify({ valid: code === "VALID", code: `CHECK_CODE_${code}` })));
  return body;
}

/**
 * A value any proxy passes on unchanged: UTF-8 percent-encoded outside
 * printable ASCII, and `%` itself, so `decodeURIComponent` reads it back. Key
 * names may hold any character but controls; header values may not.
 */
export function headerValue(value: string): string {
  return value.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""));
}

/** The headers the proxy copies to the upstream: which key called, for which service, under which policy. */
export function keywardHeaders(verdict: ValidVerdict): Array<[name: string, value: string]> {
  return [
    ["x-keyward-key-id", verdict.key.id],
    ["x-keyward-key-name", headerValue(verdict.key.name)],
    ["x-keyward-service", headerValue(verdict.key.service ?? "")],
    ["x-keyward-policy-id", verdict.policy.id],
  ];
}

/**
 * Checks the permissions a proxy's route requires against CheckKey's own
 * bounds (their count and length, from check.proto); `source` names where they
 * were set, for the message. Their form is checked with the verdict
 * (KeyChecker.decide). A route's permissions come from the proxy's
 * configuration, so a violation is the proxy's to fix, never the client's.
 */
export function requiredPermissionsRule(validator: Validator = requestValidator()): (permissions: string[], source: string) => void {
  return (permissions, source) => {
    const result = validator.validate(CheckKeyRequestSchema, create(CheckKeyRequestSchema, { permissions }));
    if (result.kind !== "valid") {
      const violation = result.kind === "invalid" ? result.violations[0]?.message : undefined;
      throw new InvalidArgumentError(source, violation ?? result.error.message);
    }
  };
}
