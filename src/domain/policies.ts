// Policies: named sets of permissions and patterns that keys are bound to.
import type { PolicyRecord } from "../storage/records.js";
import type { PolicyChanges } from "../storage/repositories/policies.js";
import type { Repositories, Store } from "../storage/store.js";
import { assertAdminRemains, policyAdministers } from "./admin-guard.js";
import { audit, auditEach, fieldsSet, target } from "./audit.js";
import { actorOf, emit, policyData, type EventData } from "./events.js";
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, nameTaken } from "./errors.js";
import { KeywardPermission } from "./keyward-permissions.js";
import { decodePageToken, encodePageToken, readPage } from "./page-token.js";
import { assertManageable, isRestricted } from "./narrowing.js";
import { GRANT_RULE, entriesGrant, parseGrant, parsePermission, serviceOf, uncoveredEntries } from "./grants.js";
import type { Principal } from "./principal.js";
import { newId } from "./random.js";
import { assertRateLimitsWithin, checkRateLimits } from "./usage-limits.js";
import type { RateLimitRecord } from "../storage/records.js";

export interface PolicyInput {
  name: string;
  description: string;
  permissions: string[];
  /** The rate limits of each key on the policy that has none of its own; default none. */
  rateLimits?: RateLimitRecord[];
}

export interface PolicyListQuery {
  pageSize: number;
  pageToken: string;
  /** Only policies whose name contains this, ignoring case; empty = all. */
  nameContains: string;
}

export interface PolicyPage {
  policies: PolicyRecord[];
  nextPageToken: string;
}

const READ_POLICIES = parsePermission(KeywardPermission.policiesRead)!;

/**
 * No escalation (design §5): a caller may only grant, or manage a policy
 * holding, what its own policy covers. The refusal names what is missing only
 * when the entries are the caller's own request (`requested`) or the caller
 * may read policies: else it would show a policy's grants to a caller not
 * allowed to read them.
 */
export function assertCallerCovers(caller: Principal, entries: readonly string[], what: string, requested = false): void {
  const missing = uncoveredEntries(caller.grants, entries);
  if (missing.length === 0) return;
  if (requested || entriesGrant(caller.grants, READ_POLICIES, true)) {
    throw new PermissionDeniedError(`${what}: your own policy does not hold ${missing.map((m) => `"${m}"`).join(", ")}`);
  }
  throw new PermissionDeniedError(`${what}: this policy grants more than your key holds`);
}

/** A restricted caller manages only a policy whose every key is at least as restricted as itself (narrowing.ts). */
async function assertKeysManageable(repos: Repositories, caller: Principal, policyId: string, what: string): Promise<void> {
  if (!isRestricted(caller)) return;
  const keys = await repos.policies.keyRestrictionsForUpdate(policyId);
  assertManageable(caller, keys, what, (id) => `its key "${id}"`);
}

/**
 * The policy, locked until the transaction ends so concurrent writers
 * serialise, once it is known to exist, to grant nothing the caller does not
 * hold, and to have only keys the caller may manage.
 */
async function lockManageablePolicy(repos: Repositories, caller: Principal, id: string, what: string): Promise<PolicyRecord> {
  const policy = await repos.policies.getForUpdate(id);
  if (!policy) throw new NotFoundError(`policy "${id}" not found`);
  assertCallerCovers(caller, policy.permissions, what);
  await assertKeysManageable(repos, caller, id, what);
  return policy;
}

/**
 * Checks a policy's entries: each a registered permission or a pattern over a
 * registered service; duplicates are dropped. Entries in `kept` (already on
 * the policy) may stay even if their service has since unregistered them.
 */
async function checkEntries(repos: Repositories, entries: readonly string[], kept: ReadonlySet<string> = new Set()): Promise<string[]> {
  const unique = [...new Set(entries)];
  const grants = unique.map((entry) => {
    const grant = parseGrant(entry);
    if (!grant) throw new InvalidArgumentError(`permissions[${entries.indexOf(entry)}]`, `"${entry}" ${GRANT_RULE}`);
    return { entry, grant };
  });
  const fresh = grants.filter((g) => !kept.has(g.entry));
  const exact = fresh.filter((g) => g.grant.kind === "exact").map((g) => g.entry);
  const registered = await repos.permissions.registeredAmong(exact);
  const services = fresh.filter((g) => g.grant.kind === "service" || g.grant.kind === "prefix").map((g) => serviceOf(g.grant)!);
  const known = await repos.permissions.knownServices(services);
  for (const { entry, grant } of fresh) {
    const field = `permissions[${entries.indexOf(entry)}]`;
    if (grant.kind === "exact" && !registered.has(entry)) {
      throw new InvalidArgumentError(field, `"${entry}" is not a registered permission`);
    }
    if ((grant.kind === "service" || grant.kind === "prefix") && !known.has(grant.service)) {
      throw new InvalidArgumentError(field, `"${entry}" names the service "${grant.service}", which has not registered`);
    }
  }
  return unique;
}

/** A policy as it is inside the change's transaction, for an event about it. */
async function policyEvent(repos: Repositories, id: string, extra: EventData): Promise<EventData> {
  const policy = await repos.policies.get(id);
  if (!policy) throw new Error(`policy ${id} vanished inside its own transaction`);
  return { policy: policyData(policy), ...extra };
}

const policyNameTaken = (name: string) => nameTaken(`a policy named "${name}" already exists`);

export class Policies {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
  ) {}

  /** Policies in creation order, a page at a time, as the key list pages. */
  async list(query: PolicyListQuery): Promise<PolicyPage> {
    const after = query.pageToken === "" ? undefined : decodePageToken(query.pageToken);
    const nameContains = query.nameContains || undefined;
    const page = await readPage(query.pageSize, (limit) => this.store.policies.page({ limit, after, nameContains }), encodePageToken);
    return { policies: page.rows, nextPageToken: page.nextPageToken };
  }

  async get(id: string): Promise<PolicyRecord> {
    const policy = await this.store.policies.get(id);
    if (!policy) throw new NotFoundError(`policy "${id}" not found`);
    return policy;
  }

  async create(caller: Principal, input: PolicyInput): Promise<PolicyRecord> {
    const { name, description } = input;
    const rateLimits = checkRateLimits("rate_limits", input.rateLimits ?? []);
    // A new policy has no keys: without limits it loosens nothing (each key's are checked when it is put on it).
    if (rateLimits.length > 0) assertRateLimitsWithin("rate_limits", rateLimits, caller.rateLimits);
    const id = newId();
    await this.store
      .transaction(async (repos) => {
        const permissions = await checkEntries(repos, input.permissions);
        assertCallerCovers(caller, permissions, "cannot create this policy", true);
        await repos.policies.insert({ id, name, description, permissions, rateLimits, creatorKeyId: caller.keyId || null, now: this.now() });
        const changedFields = ["name", "description", "permissions"];
        if (rateLimits.length > 0) changedFields.push("rate_limits");
        await audit(repos, caller, { action: "AdminCreateApiKeyPolicy", target: target.policy(id), changedFields }, this.now());
        await emit(repos, "policy.created", this.now(), () => policyEvent(repos, id, { actor: actorOf(caller) }));
      })
      .catch(policyNameTaken(name));
    return this.get(id);
  }

  async update(caller: Principal, id: string, changes: PolicyChanges): Promise<PolicyRecord> {
    const rateLimits = changes.rateLimits && checkRateLimits("policy.rate_limits", changes.rateLimits);
    if (rateLimits) assertRateLimitsWithin("policy.rate_limits", rateLimits, caller.rateLimits);
    await this.store
      .transaction(async (repos) => {
        // Any change to a policy changes its keys (their grants, or what an admin reads them as).
        const current = await lockManageablePolicy(repos, caller, id, "cannot change this policy");
        let permissions: string[] | undefined;
        if (changes.permissions !== undefined) {
          permissions = await checkEntries(repos, changes.permissions, new Set(current.permissions));
          assertCallerCovers(caller, permissions, "cannot change this policy", true);
        }
        await repos.policies.update(id, { name: changes.name, description: changes.description, permissions, rateLimits }, this.now());
        if (permissions !== undefined && policyAdministers(current.permissions)) await assertAdminRemains(repos, this.now());
        const changedFields = fieldsSet({ name: changes.name, description: changes.description, permissions, rate_limits: rateLimits });
        await audit(repos, caller, { action: "AdminUpdateApiKeyPolicy", target: target.policy(id), changedFields }, this.now());
        await emit(repos, "policy.updated", this.now(), () => policyEvent(repos, id, { changedFields, actor: actorOf(caller) }));
      })
      .catch(policyNameTaken(changes.name ?? ""));
    return this.get(id);
  }

  /**
   * Deletes the policy and every key on it, in one transaction, with one audit
   * event on the policy and one on each key it deleted (same action, so a
   * key's trail says how it went). Returns how many keys went.
   */
  async delete(caller: Principal, id: string): Promise<number> {
    return this.store.transaction(async (repos) => {
      const current = await lockManageablePolicy(repos, caller, id, "cannot delete this policy");
      const { apiKeyIds } = await repos.policies.delete(id);
      if (policyAdministers(current.permissions)) await assertAdminRemains(repos, this.now());
      const action = "AdminDeleteApiKeyPolicy";
      await auditEach(repos, caller, [{ action, target: target.policy(id) }, ...apiKeyIds.map((k) => ({ action, target: target.apiKey(k) }))], this.now());
      // One event names the keys that went with the policy (as the audit log does with one entry each).
      await emit(repos, "policy.deleted", this.now(), () => ({ policy: policyData(current), deletedApiKeyIds: apiKeyIds, actor: actorOf(caller) }));
      return apiKeyIds.length;
    });
  }
}
