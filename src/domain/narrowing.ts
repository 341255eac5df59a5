// A restricted caller manages only what is at least as restricted as itself
// (issue #14). Its own key works only from its subnets and for its paths; a
// key it could rotate, retire or delete, or whose policy it could change,
// that is looser would let it act beyond those limits: a rotation hands over
// fresh credentials that work anywhere, a policy change widens keys that do.
import type { ConstraintRecord } from "../storage/records.js";
import { constraintsWithin } from "./constraints.js";
import { PermissionDeniedError } from "./errors.js";
import type { Principal } from "./principal.js";
import { subnetsWithin } from "./subnets.js";

export interface KeyRestrictions {
  id: string;
  allowedSubnets: readonly string[];
  constraints: readonly ConstraintRecord[];
}

/** Whether the caller's own key is limited at all (an unlimited caller passes every narrowing rule). */
export const isRestricted = (caller: Principal): boolean => caller.allowedSubnets.length > 0 || caller.constraints.length > 0;

/**
 * Every key must be at least as restricted as the caller: its subnets within
 * the caller's, its constraints at least as narrow (the rule create and update
 * apply to the limits they set).
 */
export function assertManageable(caller: Principal, keys: readonly KeyRestrictions[], what: string, whose: (id: string) => string): void {
  for (const key of keys) {
    const looser = !subnetsWithin(key.allowedSubnets, caller.allowedSubnets)
      ? "allowed_subnets"
      : !constraintsWithin(key.constraints, caller.constraints)
        ? "constraints"
        : undefined;
    if (looser) throw new PermissionDeniedError(`${what}: ${whose(key.id)} is less restricted than your own key (${looser})`);
  }
}
