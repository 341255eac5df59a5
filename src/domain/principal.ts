import type { ConstraintRecord, RateLimitRecord } from "../storage/records.js";
import type { Verdict } from "./check.js";
import { constraintsAllow } from "./constraints.js";
import { UnauthenticatedError } from "./errors.js";
import type { Grant } from "./grants.js";

/** A request made of Keyward's API as its client sent it (a REST call's own method and path, not the RPC's). */
export interface AdminRequest {
  method: string;
  path: string;
}

/** The authenticated caller of an admin RPC: a Keyward key, what its policy holds and how it is restricted. */
export interface Principal {
  keyId: string;
  policyId: string;
  grants: readonly Grant[];
  /** The caller key's own restrictions: keys it creates must be at least as restricted. */
  allowedSubnets: readonly string[];
  constraints: readonly ConstraintRecord[];
  /** The service the caller key belongs to (null = none): the only one it may register, and the only one of the keys it manages. */
  service: string | null;
  /** The caller key's own rate limits (its own, else its policy's): keys it gives limits must be at least as tight. Absent = none. */
  rateLimits?: readonly RateLimitRecord[];
  /**
   * The request the caller made, which its key's constraints are judged
   * against (withinConstraints); null for those that made no admin request
   * (Keyward itself, whoever revokes or reports a key by its secret).
   */
  request: AdminRequest | null;
  /**
   * The caller presented the secret a rotation replaced, during its overlap.
   * That secret still serves the calls a running service makes (CheckKey,
   * RegisterPermissions) so the service can switch without downtime, but no
   * admin action: it may be the leaked secret the owner is replacing.
   */
  secretRotatedOut: boolean;
  /** The caller's network address, for audit. */
  clientIp: string;
}

/** The caller whose key a VALID verdict accepted, making `request` from `clientIp`. */
export function principalOf(verdict: Extract<Verdict, { code: "VALID" }>, request: AdminRequest, clientIp: string): Principal {
  const { key, policy } = verdict;
  return {
    keyId: key.id,
    policyId: policy.id,
    grants: verdict.grants,
    allowedSubnets: key.allowedSubnets,
    constraints: key.constraints,
    service: key.service,
    // The limits the key is held to: its own, else its policy's.
    rateLimits: key.rateLimits.length > 0 ? key.rateLimits : policy.rateLimits,
    request,
    secretRotatedOut: verdict.secretExpireTime !== null,
    clientIp,
  };
}

/** Keyward acting on its own behalf (start-up registration, bootstrap). */
export const SYSTEM: Principal = {
  keyId: "",
  policyId: "",
  grants: [{ kind: "all" }],
  allowedSubnets: [],
  constraints: [],
  service: null,
  request: null,
  secretRotatedOut: false,
  clientIp: "",
};

/**
 * Whoever presented a key's secret without any other credential (revoke by
 * possession): recorded as that key acting on itself, from `clientIp`. It may
 * do nothing but retire that key, so it is granted nothing.
 */
export const possessor = (keyId: string, clientIp: string): Principal => ({
  keyId,
  policyId: "",
  grants: [],
  allowedSubnets: [],
  constraints: [],
  service: null,
  request: null,
  secretRotatedOut: false,
  clientIp,
});

/**
 * A secret scanner whose signed leak report presented a key's secret: no key
 * of Keyward's acted, so the actor key id is empty; `clientIp` is where the
 * report came from. Granted nothing.
 */
export const leakReporter = (clientIp: string): Principal => possessor("", clientIp);

/** Refuses a caller authenticated by a rotated-out secret; says no more than an attacker holding it will learn anyway. */
export function assertCurrentSecret(caller: Principal): void {
  if (caller.secretRotatedOut) throw new UnauthenticatedError("this secret was rotated out; use the key's current secret");
}

/**
 * Whether the caller key's path/verb constraints let it act: the one rule for
 * them on Keyward's own API. Every admin action needs them to allow the
 * request, as a service's check would; but a key may rotate itself (`rotating`
 * is the id of the key a rotation is for) whatever they say, so a key confined
 * to a service's paths can still replace its own leaked secret. The checker
 * judges them up front for the RPCs that need a permission; the RPCs any valid
 * key may call (rotation, registration) are authenticated without them, and
 * their operation asks here once it knows what the call does.
 */
export function withinConstraints(caller: Principal, rotating?: string): boolean {
  if (rotating === caller.keyId) return true;
  // Keyward acting on its own is held to no constraints; anyone else who made no request is allowed nothing.
  if (caller === SYSTEM) return true;
  return caller.request !== null && constraintsAllow(caller.constraints, caller.request.method, caller.request.path);
}
