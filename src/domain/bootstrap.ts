// The first admin key, issued once per store (design §5).
import type { Store } from "../storage/store.js";
import { newCredentials } from "./key-format.js";
import { newId } from "./random.js";
import type { SecretHasher } from "./secret-hasher.js";

export const ADMIN_POLICY_NAME = "keyward-admin";
export const ADMIN_KEY_NAME = "keyward-admin";

export interface BootstrapSettings {
  keyPrefix: string;
  maxKeyTtlMs: number;
}

/**
 * On a store that never issued one, creates the policy `keyward-admin` holding
 * `*` and one key on it, and hands the credentials to `deliver` before the
 * transaction commits: if delivery fails nothing is kept and the next start
 * tries again; once committed, no later start (of this or any replica, which
 * wait on the same advisory lock) issues another. Returns the new key's id.
 */
export async function issueBootstrapKey(
  store: Store,
  hasher: SecretHasher,
  settings: BootstrapSettings,
  now: () => Date,
  deliver: (credentials: string) => Promise<void>,
): Promise<string | undefined> {
  if (await store.bootstrap.isDone()) return undefined;
  const { id, secret, credentials } = newCredentials(settings.keyPrefix);
  const secretHash = await hasher.hash(secret);
  return store.transaction(async (repos) => {
    await repos.bootstrap.lock();
    if (await repos.bootstrap.isDone()) return undefined;
    const at = now();
    const policyId = newId();
    await repos.policies.insert({
      id: policyId,
      name: ADMIN_POLICY_NAME,
      description: "Every permission, present and future. Created at first start.",
      permissions: ["*"],
      creatorKeyId: null,
      now: at,
    });
    await repos.apiKeys.insert({
      id,
      name: ADMIN_KEY_NAME,
      policyId,
      secretHash,
      expireTime: new Date(at.getTime() + settings.maxKeyTtlMs),
      allowedSubnets: [],
      constraints: [],
      service: null,
      creatorKeyId: null,
      now: at,
    });
    await repos.bootstrap.markDone(id, at);
    await deliver(credentials);
    return id;
  });
}
