import type { ConstraintRecord, RateLimitRecord } from "../storage/records.js";
import { UnauthenticatedError } from "./errors.js";
import type { Grant } from "./grants.js";

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
   * Whether the caller key's constraints allow this request. Always true but
   * for the RPCs the domain authorizes itself (rotation, where every key may
   * rotate itself whatever its constraints say, and registration).
   */
  withinConstraints: boolean;
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

/** Keyward acting on its own behalf (start-up registration, bootstrap). */
export const SYSTEM: Principal = {
  keyId: "",
  policyId: "",
  grants: [{ kind: "all" }],
  allowedSubnets: [],
  constraints: [],
  service: null,
  withinConstraints: true,
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
  withinConstraints: false,
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
