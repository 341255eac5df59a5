// API keys: creation (credentials shown once), reads, updates and deletion.
import type { ApiKeyRecord, ApiKeyStateRecord, ConstraintRecord, CreditsRecord, RateLimitRecord } from "../storage/records.js";
import { assertRateLimitsWithin, checkCredits, checkRateLimits } from "./usage-limits.js";
import type { ApiKeyChanges } from "../storage/repositories/api-keys.js";
import type { Repositories, Store } from "../storage/store.js";
import { adminRemains, assertAdminRemains, isAdminKey } from "./admin-guard.js";
import { audit, fieldsSet, target } from "./audit.js";
import { checkConstraints, constraintsWithin } from "./constraints.js";
import { actorOf, apiKeyData, emit, keyNow } from "./events.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, nameTaken } from "./errors.js";
import { newCredentials } from "./key-format.js";
import { decodeKeyPageToken, encodeKeyPageToken, positionOf, type ApiKeyOrder } from "./key-order.js";
import { readPage } from "./page-token.js";
import { KeywardPermission } from "./keyward-permissions.js";
import { assertManageable } from "./narrowing.js";
import { entriesGrant, parsePermission } from "./grants.js";
import { assertCallerCovers } from "./policies.js";
import { assertCurrentSecret, leakReporter, possessor, SYSTEM, withinConstraints, type Principal } from "./principal.js";
import type { SecretHasher } from "./secret-hasher.js";
import { assertMayGiveService, checkKeyService } from "./service-ownership.js";
import { checkLabels, parseLabelFilters } from "./labels.js";
import { checkSubnets, subnetsWithin } from "./subnets.js";

export interface ApiKeySettings {
  /** The credentials' prefix, `kw` unless the deployment changes it. */
  keyPrefix: string;
  /** The longest lifetime a key may be given. */
  maxKeyTtlMs: number;
  /** The longest a rotated-out secret may keep working. */
  maxRotationOverlapMs: number;
}

/**
 * Who presented a key's secret to retire it: its finder, calling RevokeApiKey
 * from `clientIp`, or a secret scanner's signed leak report posted from
 * `clientIp`, with what the report says of where the secret was found.
 */
export type PossessionProof = { via: "finder"; clientIp: string } | { via: "leak_report"; clientIp: string; detail: string };

export interface ApiKeyInput {
  name: string;
  policyId: string;
  expireTime: Date | undefined;
  allowedSubnets: string[];
  constraints: ConstraintRecord[];
  /** The service the key belongs to; null = none. */
  service: string | null;
  /** Empty = the policy's. */
  rateLimits: RateLimitRecord[];
  /** Null = unlimited. */
  credits: CreditsRecord | null;
  /** Metadata (owner, team, ticket); empty = none. */
  labels: Record<string, string>;
}

/** A create gives the expiry as a time or as a lifetime from now: exactly one of the two. */
export interface NewApiKeyInput extends ApiKeyInput {
  /** The key's lifetime from now, instead of `expireTime`. */
  ttlMs: number | undefined;
}

export interface ApiKeyPage {
  keys: ApiKeyRecord[];
  nextPageToken: string;
}

export interface ApiKeyListQuery {
  pageSize: number;
  pageToken: string;
  order: ApiKeyOrder;
  policyId: string;
  state: ApiKeyStateRecord | undefined;
  /** Only keys expiring within this long from now (already expired ones included). */
  expiringWithinMs: number | undefined;
  /** Only keys of this service; empty = any. */
  service: string;
  /** Only keys whose name contains this, ignoring case; empty = all. */
  nameContains: string;
  /** Only keys last used (or, never used, created) at least this long ago. */
  idleForMs: number | undefined;
  /** Only keys with every one of these labels: `key=value` or `key` (any value). */
  labels: string[];
}

/** `expire_time` must be set, in the future, and within the deployment's maximum lifetime. */
export function checkExpireTime(field: string, value: Date | undefined, now: Date, maxTtlMs: number): Date {
  if (value === undefined) throw new InvalidArgumentError(field, "is required");
  if (Number.isNaN(value.getTime())) throw new InvalidArgumentError(field, "is not a valid time");
  if (value.getTime() <= now.getTime()) throw new InvalidArgumentError(field, "must be in the future");
  if (value.getTime() - now.getTime() > maxTtlMs) {
    throw new InvalidArgumentError(field, `must be at most ${Math.floor(maxTtlMs / 86_400_000)} days from now (KEYWARD_MAX_KEY_TTL)`);
  }
  return value;
}

/**
 * The expiry of a new key from whichever of `expire_time` and `ttl` it was
 * given (proto/ refuses both or neither): a ttl becomes "now + ttl" and is then
 * held to the same rules, with the same refusal, as an expire_time.
 */
export function newKeyExpiry(input: Pick<NewApiKeyInput, "expireTime" | "ttlMs">, now: Date, maxTtlMs: number): Date {
  if (input.ttlMs === undefined) return checkExpireTime("expire_time", input.expireTime, now, maxTtlMs);
  if (input.expireTime !== undefined) throw new InvalidArgumentError("expire_time, ttl", "give one of them, not both");
  if (!(input.ttlMs > 0)) throw new InvalidArgumentError("ttl", "must be a positive duration");
  return checkExpireTime("ttl", new Date(now.getTime() + input.ttlMs), now, maxTtlMs);
}

/**
 * Narrowing (after Civis): a caller whose own key is limited to subnets or
 * constraints may only give keys limits at least as tight.
 */
function assertNarrowing(caller: Principal, subnets: readonly string[], constraints: readonly ConstraintRecord[], prefix: string): void {
  if (!subnetsWithin(subnets, caller.allowedSubnets)) {
    throw new PermissionDeniedError(`${prefix}allowed_subnets: your own key is limited to ${caller.allowedSubnets.join(", ")}; each subnet must lie within one of those`);
  }
  if (!constraintsWithin(constraints, caller.constraints)) {
    throw new PermissionDeniedError(`${prefix}constraints: your own key is constrained; each constraint must be at least as narrow as one of yours`);
  }
}

const WRITE_KEYS = parsePermission(KeywardPermission.apiKeysWrite)!;

const thisKey = () => "it";

const keyNameTaken = (name: string | undefined) => nameTaken(`an API key named "${name ?? ""}" already exists`);

export class ApiKeys {
  constructor(
    private readonly store: Store,
    private readonly hasher: SecretHasher,
    private readonly settings: ApiKeySettings,
    private readonly now: () => Date,
  ) {}

  /** Creates a key; the returned credentials are never available again. */
  async create(caller: Principal, input: NewApiKeyInput): Promise<{ key: ApiKeyRecord; credentials: string }> {
    const name = input.name;
    const expireTime = newKeyExpiry(input, this.now(), this.settings.maxKeyTtlMs);
    const allowedSubnets = checkSubnets("allowed_subnets", input.allowedSubnets);
    const constraints = checkConstraints("constraints", input.constraints);
    assertNarrowing(caller, allowedSubnets, constraints, "");
    const service = checkKeyService("service", input.service);
    assertMayGiveService(caller, service, service !== null, "service");
    const rateLimits = checkRateLimits("rate_limits", input.rateLimits);
    const credits = checkCredits("credits", input.credits);
    const labels = checkLabels("labels", input.labels);
    const { id, secret, credentials } = newCredentials(this.settings.keyPrefix);
    // Hash before the transaction: argon2 takes milliseconds and must not hold row locks.
    const secretHash = await this.hasher.hash(secret);
    await this.store
      .transaction(async (repos) => {
        await this.assertPolicyGrantable(repos, caller, input.policyId, "policy_id");
        if (caller.rateLimits?.length) {
          const effective = rateLimits.length > 0 ? rateLimits : await repos.policies.rateLimitsOf(input.policyId);
          assertRateLimitsWithin("rate_limits", effective, caller.rateLimits);
        }
        await repos.apiKeys.insert({
          id,
          name,
          policyId: input.policyId,
          secretHash,
          expireTime,
          allowedSubnets,
          constraints,
          service,
          rateLimits,
          credits,
          labels,
          creatorKeyId: caller.keyId || null,
          now: this.now(),
        });
        const changedFields = ["name", "policy_id", "expire_time"];
        if (allowedSubnets.length > 0) changedFields.push("allowed_subnets");
        if (constraints.length > 0) changedFields.push("constraints");
        if (service !== null) changedFields.push("service");
        if (rateLimits.length > 0) changedFields.push("rate_limits");
        if (credits !== null) changedFields.push("credits");
        if (Object.keys(labels).length > 0) changedFields.push("labels");
        await audit(repos, caller, { action: "AdminCreateApiKey", target: target.apiKey(id), changedFields }, this.now());
        await emit(repos, "api_key.created", this.now(), async () => ({ apiKey: apiKeyData(await keyNow(repos, id)), actor: actorOf(caller) }));
      })
      .catch(keyNameTaken(name));
    return { key: await this.get(id), credentials };
  }

  async get(id: string): Promise<ApiKeyRecord> {
    const key = await this.store.apiKeys.get(id);
    if (!key) throw new NotFoundError(`API key "${id}" not found`);
    return key;
  }

  async list(query: ApiKeyListQuery): Promise<ApiKeyPage> {
    const after = query.pageToken === "" ? undefined : decodeKeyPageToken(query.pageToken, query.order);
    const labels = parseLabelFilters("label", query.labels);
    const page = await readPage(
      query.pageSize,
      (limit) =>
        this.store.apiKeys.page({
          labels,
          limit,
          order: query.order,
          after,
          policyId: query.policyId || undefined,
          state: query.state,
          expiringBy: query.expiringWithinMs === undefined ? undefined : new Date(this.now().getTime() + query.expiringWithinMs),
          service: query.service || undefined,
          nameContains: query.nameContains || undefined,
          idleSince: query.idleForMs === undefined ? undefined : new Date(this.now().getTime() - query.idleForMs),
        }),
      (last) => encodeKeyPageToken(query.order, positionOf(last, query.order)),
    );
    return { keys: page.rows, nextPageToken: page.nextPageToken };
  }

  async update(caller: Principal, id: string, changes: ApiKeyChanges): Promise<ApiKeyRecord> {
    if ("expireTime" in changes) {
      checkExpireTime("api_key.expire_time", changes.expireTime, this.now(), this.settings.maxKeyTtlMs);
    }
    const checked: ApiKeyChanges = { ...changes };
    if (changes.allowedSubnets) checked.allowedSubnets = checkSubnets("api_key.allowed_subnets", changes.allowedSubnets);
    if (changes.constraints) checked.constraints = checkConstraints("api_key.constraints", changes.constraints);
    if (changes.service !== undefined) checked.service = checkKeyService("api_key.service", changes.service);
    if (changes.rateLimits !== undefined) checked.rateLimits = checkRateLimits("api_key.rate_limits", changes.rateLimits);
    if (changes.credits !== undefined) checked.credits = checkCredits("api_key.credits", changes.credits);
    if (changes.labels !== undefined) checked.labels = checkLabels("api_key.labels", changes.labels);
    await this.store
      .transaction(async (repos) => {
        const current = await this.lockGrantableKey(repos, caller, id, "api_key.id", "cannot change this key");
        if (checked.policyId !== undefined && checked.policyId !== current.policyId) {
          await this.assertPolicyGrantable(repos, caller, checked.policyId, "api_key.policy_id");
        }
        assertNarrowing(caller, checked.allowedSubnets ?? current.allowedSubnets, checked.constraints ?? current.constraints, "api_key.");
        if (caller.rateLimits?.length) {
          const own = checked.rateLimits ?? current.rateLimits;
          const effective = own.length > 0 ? own : await repos.policies.rateLimitsOf(checked.policyId ?? current.policyId);
          assertRateLimitsWithin("api_key.rate_limits", effective, caller.rateLimits);
        }
        const service = checked.service === undefined ? current.service : checked.service;
        assertMayGiveService(caller, service, service !== current.service, "api_key.service");
        await this.keepingAnAdmin(repos, current, () => repos.apiKeys.update(id, checked, this.now()));
        const changedFields = fieldsSet({
          name: checked.name,
          policy_id: checked.policyId,
          expire_time: checked.expireTime,
          allowed_subnets: checked.allowedSubnets,
          constraints: checked.constraints,
          service: checked.service,
          rate_limits: checked.rateLimits,
          credits: checked.credits,
          labels: checked.labels,
        });
        await audit(repos, caller, { action: "AdminUpdateApiKey", target: target.apiKey(id), changedFields }, this.now());
        await emit(repos, "api_key.updated", this.now(), async () => ({ apiKey: apiKeyData(await keyNow(repos, id)), changedFields, actor: actorOf(caller) }));
      })
      .catch(keyNameTaken(changes.name));
    return this.get(id);
  }

  async delete(caller: Principal, id: string): Promise<void> {
    await this.store.transaction(async (repos) => {
      const current = await this.lockGrantableKey(repos, caller, id, "id", "cannot delete this key");
      assertManageable(caller, [current], "cannot delete this key", thisKey);
      await this.keepingAnAdmin(repos, current, () => repos.apiKeys.delete(id));
      await audit(repos, caller, { action: "AdminDeleteApiKey", target: target.apiKey(id) }, this.now());
      await emit(repos, "api_key.deleted", this.now(), () => ({ apiKey: apiKeyData(current), actor: actorOf(caller) }));
    });
  }

  /** Revokes a key at once and for good; its record and audit trail remain. */
  async retire(caller: Principal, id: string): Promise<ApiKeyRecord> {
    await this.store.transaction(async (repos) => {
      const current = await this.lockGrantableKey(repos, caller, id, "id", "cannot retire this key");
      assertManageable(caller, [current], "cannot retire this key", thisKey);
      if (current.state === "retired") throw new FailedPreconditionError(`API key "${id}" is already retired`);
      await this.keepingAnAdmin(repos, current, () => this.retireLocked(repos, caller, id, "AdminRetireApiKey"));
    });
    return this.get(id);
  }

  /**
   * Retires a key whose secret the caller presented (revoke by possession):
   * holding it is all the authority needed, since whoever holds it can use it.
   * A key already retired, or deleted meanwhile, is left as it is. Unlike an
   * admin's retire, this may retire the last admin key: a leaked one must die
   * at once, and `npm run recover` issues a new one; the answer says whether
   * no admin key is left, for the operator's log. `proof` says who presented
   * the secret: its finder (RevokeApiKey, audited as the key acting on
   * itself) or a signed leak report (audited with no actor key, the report's
   * source and URL in the entry's detail).
   */
  async retireByPossession(id: string, proof: PossessionProof): Promise<{ retired: boolean; leftNoAdmin: boolean }> {
    return this.store.transaction(async (repos) => {
      const current = await repos.apiKeys.getForUpdate(id);
      if (!current || current.state === "retired") return { retired: false, leftNoAdmin: false };
      const wasAdmin = await this.isAdminKey(repos, current);
      if (proof.via === "finder") await this.retireLocked(repos, possessor(id, proof.clientIp), id, "RevokeApiKey");
      else {
        await this.retireLocked(repos, leakReporter(proof.clientIp), id, "ReportLeakedApiKey", proof.detail);
        // Besides api_key.retired: a leak asks more of the owner (find where it leaked, audit its use).
        await emit(repos, "api_key.leaked", this.now(), async () => ({ apiKey: apiKeyData(await keyNow(repos, id)), report: proof.detail }));
      }
      return { retired: true, leftNoAdmin: wasAdmin && !(await adminRemains(repos, this.now())) };
    });
  }

  /**
   * Retires, in a lifecycle round's transaction, a key `key` (read there for
   * update) that went unused too long: Keyward itself acts (the audit entry
   * `IdleRetireApiKey` has no actor key), through the one retire path, so
   * `api_key.retired` goes out as for any retirement — whoever reacts to
   * retirements needs no second subscription — and `api_key.idle_retired`
   * follows with the reason. Never the last admin key: that one is left
   * active and false returned, for the operator's log.
   */
  async retireIdleLocked(repos: Repositories, key: ApiKeyRecord): Promise<boolean> {
    if ((await this.isAdminKey(repos, key)) && !(await adminRemains(repos, this.now(), key.id))) return false;
    await this.retireLocked(repos, SYSTEM, key.id, "IdleRetireApiKey");
    const lastUsedTime = key.lastUsedTime?.toISOString() ?? null;
    await emit(repos, "api_key.idle_retired", this.now(), async () => ({ apiKey: apiKeyData(await keyNow(repos, key.id)), lastUsedTime, actor: actorOf(SYSTEM) }));
    return true;
  }

  /** The retirement itself, on a key read for update in the caller's transaction: state, retirer, audit. */
  private async retireLocked(repos: Repositories, actor: Principal, id: string, action: string, detail?: string): Promise<void> {
    await repos.apiKeys.retire(id, actor.keyId || null, this.now());
    await audit(repos, actor, { action, target: target.apiKey(id), changedFields: ["state"], detail }, this.now());
    await emit(repos, "api_key.retired", this.now(), async () => ({ apiKey: apiKeyData(await keyNow(repos, id)), actor: actorOf(actor) }));
  }

  /**
   * Issues a new secret, returned once. The previous one keeps working for
   * `overlapMs` (0 = not at all), never past the key's expiry. A key may
   * rotate itself; rotating another needs keyward.api_keys.write and a
   * policy that covers the key's (its new credentials grant what it grants)
   * and a key no less restricted than the key (they work where it works).
   * A secret that was rotated out may rotate nothing, not even its own key:
   * else a leaked secret the owner just replaced could take the key back.
   */
  async rotate(
    caller: Principal,
    id: string,
    overlapMs: number,
  ): Promise<{ key: ApiKeyRecord; credentials: string; previousExpireTime: Date | null }> {
    if (overlapMs > this.settings.maxRotationOverlapMs) {
      throw new InvalidArgumentError("overlap", `must be at most ${Math.floor(this.settings.maxRotationOverlapMs / 1000)}s (KEYWARD_MAX_ROTATION_OVERLAP)`);
    }
    assertCurrentSecret(caller);
    if (!withinConstraints(caller, id) || (id !== caller.keyId && !entriesGrant(caller.grants, WRITE_KEYS, true))) {
      throw new PermissionDeniedError(`rotating another key needs ${KeywardPermission.apiKeysWrite}; a key may rotate itself`);
    }
    const { secret, credentials } = newCredentials(this.settings.keyPrefix, id);
    const secretHash = await this.hasher.hash(secret);
    let previousExpireTime: Date | null = null;
    await this.store.transaction(async (repos) => {
      const current = id === caller.keyId ? await this.lockKey(repos, id) : await this.lockGrantableKey(repos, caller, id, "id", "cannot rotate this key");
      if (id !== caller.keyId) {
        assertManageable(caller, [current], "cannot rotate this key", thisKey);
        // Its new credentials would speak for the key's service (or for any, if it has none).
        assertMayGiveService(caller, current.service, false, "id");
      }
      if (current.state === "retired") throw new FailedPreconditionError(`API key "${id}" is retired and cannot be rotated`);
      const now = this.now();
      if (current.expireTime <= now) throw new FailedPreconditionError(`API key "${id}" has expired and cannot be rotated`);
      if (overlapMs > 0) previousExpireTime = new Date(Math.min(now.getTime() + overlapMs, current.expireTime.getTime()));
      await repos.apiKeys.rotate(id, secretHash, previousExpireTime, now);
      await audit(repos, caller, { action: "AdminRotateApiKey", target: target.apiKey(id), changedFields: ["secret"] }, now);
      const previousSecretExpireTime = previousExpireTime?.toISOString() ?? null;
      await emit(repos, "api_key.rotated", now, async () => ({ apiKey: apiKeyData(await keyNow(repos, id)), previousSecretExpireTime, actor: actorOf(caller) }));
    });
    return { key: await this.get(id), credentials, previousExpireTime };
  }

  /** Whether the key counts toward "some key can still administer Keyward" (domain/admin-guard.ts). */
  private async isAdminKey(repos: Repositories, key: ApiKeyRecord): Promise<boolean> {
    return isAdminKey(key, (await repos.policies.permissionsOf(key.policyId)) ?? [], this.now());
  }

  /** The key, locked until the transaction ends so concurrent changes to it serialise; NOT_FOUND when there is none. */
  private async lockKey(repos: Repositories, id: string): Promise<ApiKeyRecord> {
    const key = await repos.apiKeys.getForUpdate(id);
    if (!key) throw new NotFoundError(`API key "${id}" not found`);
    return key;
  }

  /** The key, locked, once it is shown to be on a policy the caller could grant (else the caller could act on a key stronger than its own). */
  private async lockGrantableKey(repos: Repositories, caller: Principal, id: string, field: string, what: string): Promise<ApiKeyRecord> {
    const key = await this.lockKey(repos, id);
    await this.assertPolicyGrantable(repos, caller, key.policyId, field, what);
    return key;
  }

  /**
   * Makes `change` to `key`, then refuses it (the transaction rolls back) if
   * the key could administer Keyward and none that can is left.
   */
  private async keepingAnAdmin(repos: Repositories, key: ApiKeyRecord, change: () => Promise<unknown>): Promise<void> {
    const wasAdmin = await this.isAdminKey(repos, key);
    await change();
    if (wasAdmin) await assertAdminRemains(repos, this.now());
  }

  /** The policy exists and the caller holds everything it grants. */
  private async assertPolicyGrantable(
    repos: Repositories,
    caller: Principal,
    policyId: string,
    field: string,
    what = "cannot put a key on this policy",
  ): Promise<void> {
    const permissions = await repos.policies.permissionsOf(policyId);
    if (!permissions) throw new NotFoundError(`${field}: policy "${policyId}" not found`);
    assertCallerCovers(caller, permissions, what);
  }
}
