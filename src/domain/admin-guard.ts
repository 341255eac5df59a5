// Keyward must never be left without a key able to administer it (issue #15):
// a key holding `*` could delete its own policy and with it itself, and nothing
// but the store could bring an admin back.
//
// An *admin key* is a key that is active, not expired, has no constraints, and
// whose policy grants both keyward.api_keys.write and keyward.policies.write
// (`*`, `keyward.*`, the two resource patterns, or the two permissions): with
// those it can issue any key and policy it needs. A subnet limit does not stop
// it counting (the operator can call from that subnet); constraints do (they
// may keep it from reaching the admin RPCs at all).
import type { ApiKeyRecord } from "../storage/records.js";
import type { Repositories } from "../storage/store.js";
import { FailedPreconditionError } from "./errors.js";
import { KeywardPermission } from "./keyward-permissions.js";
import { entriesGrant, parseGrants, parsePermission } from "./grants.js";

const ADMIN_PERMISSIONS = [KeywardPermission.apiKeysWrite, KeywardPermission.policiesWrite].map((p) => parsePermission(p)!);

/** Whether a policy holding `entries` administers Keyward (Keyward always registers its own permissions). */
export function policyAdministers(entries: readonly string[]): boolean {
  const grants = parseGrants(entries);
  return ADMIN_PERMISSIONS.every((p) => entriesGrant(grants, p, true));
}

/** Whether `key`, on a policy holding `policyEntries`, is an admin key at `now`. */
export function isAdminKey(key: Pick<ApiKeyRecord, "state" | "expireTime" | "constraints">, policyEntries: readonly string[], now: Date): boolean {
  return key.state === "active" && key.expireTime > now && key.constraints.length === 0 && policyAdministers(policyEntries);
}

export const LOCKOUT_MESSAGE =
  "this would leave no active key able to administer Keyward (an unexpired key without constraints whose policy grants " +
  `${KeywardPermission.apiKeysWrite} and ${KeywardPermission.policiesWrite}); create another admin key first ` +
  "(whoever can reach the store can always issue one with `npm run recover`)";

/**
 * Call inside a write's transaction, after the write, when it may have removed
 * an admin key. Admin-affecting writes serialise on one lock, so two that each
 * leave the other's admin key in place cannot both commit and leave none
 * (under READ COMMITTED the check, run after the lock, sees what the other committed).
 */
export async function assertAdminRemains(repos: Repositories, now: Date): Promise<void> {
  if (!(await adminRemains(repos, now))) throw new FailedPreconditionError(LOCKOUT_MESSAGE);
}

/**
 * Whether some admin key is left; called as assertAdminRemains is, by a write
 * that may go on without one (revoke by possession), or before a write that
 * must not (idle retirement asks whether one remains besides `exceptKeyId`).
 */
export async function adminRemains(repos: Repositories, now: Date, exceptKeyId?: string): Promise<boolean> {
  await repos.apiKeys.lockAdminChanges();
  const policies = await repos.apiKeys.policiesOfUsableKeys(now, exceptKeyId);
  return policies.some(policyAdministers);
}
