// The first admin key, issued once per store (design §5), and the recovery of
// an admin key by whoever can reach the store (`npm run recover`, issue #15).
import type { Repositories, Store } from "../storage/store.js";
import { target } from "./audit.js";
import { FailedPreconditionError } from "./errors.js";
import { newCredentials } from "./key-format.js";
import { newId } from "./random.js";
import type { SecretHasher } from "./secret-hasher.js";

export const ADMIN_POLICY_NAME = "keyward-admin";
export const ADMIN_KEY_NAME = "keyward-admin";

export interface BootstrapSettings {
  keyPrefix: string;
  maxKeyTtlMs: number;
}

/** Creates the policy `keyward-admin` holding `*`; returns its id. */
async function insertAdminPolicy(repos: Repositories, description: string, at: Date): Promise<string> {
  const policyId = newId();
  await repos.policies.insert({ id: policyId, name: ADMIN_POLICY_NAME, description, permissions: ["*"], creatorKeyId: null, now: at });
  return policyId;
}

/** Inserts an admin key on `policyId`, expiring after the deployment's maximum lifetime. */
async function insertAdminKey(
  repos: Repositories,
  key: { id: string; name: string; secretHash: string; policyId: string },
  settings: BootstrapSettings,
  at: Date,
): Promise<void> {
  await repos.apiKeys.insert({
    ...key,
    expireTime: new Date(at.getTime() + settings.maxKeyTtlMs),
    allowedSubnets: [],
    constraints: [],
    service: null,
    creatorKeyId: null,
    now: at,
  });
}

/** What issuing an admin key takes; `deliver` gets the credentials before the transaction commits. */
export interface AdminKeyIssuance {
  store: Store;
  hasher: SecretHasher;
  settings: BootstrapSettings;
  now: () => Date;
  deliver: (credentials: string) => Promise<void>;
}

/**
 * Makes an admin key's credentials, hashes the secret before the transaction
 * (argon2 must not hold locks), runs `work` in one with the key's id and hash,
 * and, unless `work` issued nothing (undefined), delivers the credentials
 * before the commit: a failed delivery keeps nothing.
 */
async function issueAdminKey<T>(
  { store, hasher, settings, deliver }: AdminKeyIssuance,
  work: (repos: Repositories, key: { id: string; secretHash: string }) => Promise<T>,
): Promise<T> {
  const { id, secret, credentials } = newCredentials(settings.keyPrefix);
  const secretHash = await hasher.hash(secret);
  return store.transaction(async (repos) => {
    const issued = await work(repos, { id, secretHash });
    if (issued !== undefined) await deliver(credentials);
    return issued;
  });
}

/**
 * On a store that never issued one, creates the policy `keyward-admin` holding
 * `*` and one key on it, and hands the credentials to `deliver` before the
 * transaction commits: if delivery fails nothing is kept and the next start
 * tries again; once committed, no later start (of this or any replica, which
 * wait on the same advisory lock) issues another. Returns the new key's id.
 */
export async function issueBootstrapKey(issuance: AdminKeyIssuance): Promise<string | undefined> {
  if (await issuance.store.bootstrap.isDone()) return undefined;
  return issueAdminKey(issuance, async (repos, { id, secretHash }) => {
    await repos.bootstrap.lock();
    if (await repos.bootstrap.isDone()) return undefined;
    const at = issuance.now();
    const policyId = await insertAdminPolicy(repos, "Every permission, present and future. Created at first start.", at);
    await insertAdminKey(repos, { id, name: ADMIN_KEY_NAME, secretHash, policyId }, issuance.settings, at);
    await repos.bootstrap.markDone(id, at);
    return id;
  });
}

export const RECOVERY_ACTION = "RecoverAdminKey";

/**
 * Recovery, for an operator locked out of the API: issues a new admin key on
 * `keyward-admin` (recreating that policy, holding `*`, if it was deleted),
 * audits it as Keyward itself (no actor key) with the action RecoverAdminKey,
 * and hands the credentials to `deliver` before committing (a failed delivery
 * keeps nothing). Always allowed: it needs the store, not the API, and whoever
 * can write the store could do as much by hand. Refuses only when a policy
 * named `keyward-admin` exists but no longer holds `*`, rather than widen it
 * for every key on it.
 */
export async function recoverAdminKey(issuance: AdminKeyIssuance): Promise<{ keyId: string; policyId: string; policyCreated: boolean }> {
  return issueAdminKey(issuance, async (repos, { id, secretHash }) => {
    const at = issuance.now();
    const existing = (await repos.policies.list()).find((p) => p.name === ADMIN_POLICY_NAME);
    if (existing && !existing.permissions.includes("*")) {
      throw new FailedPreconditionError(
        `the policy "${ADMIN_POLICY_NAME}" exists but no longer holds "*"; rename it or give it back "*" in the store, then run recover again`,
      );
    }
    const policyId = existing?.id ?? (await insertAdminPolicy(repos, `Every permission, present and future. Recreated by recovery on ${at.toISOString()}.`, at));
    // Key names are unique and the bootstrap key (or an earlier recovery's) may still be there.
    await insertAdminKey(repos, { id, name: `${ADMIN_KEY_NAME}-recovered-${id.slice(0, 8).toLowerCase()}`, secretHash, policyId }, issuance.settings, at);
    const event = { actorKeyId: "", action: RECOVERY_ACTION, outcome: "OK", clientIp: "", createTime: at, detail: "" };
    if (!existing) {
      await repos.auditEvents.insert({ ...event, id: newId(), target: target.policy(policyId), changedFields: ["name", "description", "permissions"] });
    }
    await repos.auditEvents.insert({ ...event, id: newId(), target: target.apiKey(id), changedFields: ["name", "policy_id", "expire_time"] });
    return { keyId: id, policyId, policyCreated: !existing };
  });
}
