// API keys: creation (credentials shown once), reads, updates and deletion.
import { UniqueViolation } from "../storage/errors.js";
import type { ApiKeyRecord, ConstraintRecord } from "../storage/records.js";
import type { Repositories, Store } from "../storage/store.js";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, UnimplementedError } from "./errors.js";
import { newCredentials } from "./key-format.js";
import { Limits } from "./limits.js";
import { assertCallerCovers } from "./policies.js";
import type { Principal } from "./principal.js";
import type { SecretHasher } from "./secret-hasher.js";
import { checkId, checkName } from "./validation.js";

export interface ApiKeySettings {
  /** The credentials' prefix, `kw` unless the deployment changes it. */
  keyPrefix: string;
  /** The longest lifetime a key may be given. */
  maxKeyTtlMs: number;
}

export interface ApiKeyInput {
  name: string;
  policyId: string;
  expireTime: Date | undefined;
  allowedSubnets: string[];
  constraints: ConstraintRecord[];
}

export type ApiKeyChanges = Partial<ApiKeyInput>;

export interface ApiKeyPage {
  keys: ApiKeyRecord[];
  nextPageToken: string;
}

export interface ApiKeyListQuery {
  pageSize: number;
  pageToken: string;
  policyId: string;
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

// Subnets and constraints arrive with the key-scoping work; until then a key
// that asks for them is refused rather than silently left unrestricted.
function refuseScoping(field: string, values: readonly unknown[]): void {
  if (values.length > 0) throw new UnimplementedError(`${field}: not supported yet`);
}

interface PageCursor {
  createTime: Date;
  id: string;
}

const encodeCursor = (key: ApiKeyRecord): string =>
  Buffer.from(JSON.stringify({ t: key.createTime.toISOString(), id: key.id })).toString("base64url");

function decodeCursor(token: string): PageCursor {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { t?: unknown; id?: unknown };
    const createTime = new Date(typeof parsed.t === "string" ? parsed.t : NaN);
    if (typeof parsed.id !== "string" || Number.isNaN(createTime.getTime())) throw new Error("bad cursor");
    return { createTime, id: parsed.id };
  } catch {
    throw new InvalidArgumentError("page_token", "is not a token from a previous response");
  }
}

const keyNameTaken = (name: string | undefined) => new AlreadyExistsError(`an API key named "${name ?? ""}" already exists`);

export class ApiKeyService {
  constructor(
    private readonly store: Store,
    private readonly hasher: SecretHasher,
    private readonly settings: ApiKeySettings,
    private readonly now: () => Date,
  ) {}

  /** Creates a key; the returned credentials are never available again. */
  async create(caller: Principal, input: ApiKeyInput): Promise<{ key: ApiKeyRecord; credentials: string }> {
    const name = checkName("name", input.name);
    checkId("policy_id", input.policyId);
    const expireTime = checkExpireTime("expire_time", input.expireTime, this.now(), this.settings.maxKeyTtlMs);
    refuseScoping("allowed_subnets", input.allowedSubnets);
    refuseScoping("constraints", input.constraints);
    const { id, secret, credentials } = newCredentials(this.settings.keyPrefix);
    // Hash before the transaction: argon2 takes milliseconds and must not hold row locks.
    const secretHash = await this.hasher.hash(secret);
    await this.store
      .transaction(async (repos) => {
        await this.assertPolicyGrantable(repos, caller, input.policyId, "policy_id");
        await repos.apiKeys.insert({
          id,
          name,
          policyId: input.policyId,
          secretHash,
          expireTime,
          allowedSubnets: input.allowedSubnets,
          constraints: input.constraints,
          creatorKeyId: caller.keyId || null,
          now: this.now(),
        });
      })
      .catch((e: unknown) => {
        throw e instanceof UniqueViolation ? keyNameTaken(name) : e;
      });
    return { key: await this.get(id), credentials };
  }

  async get(id: string): Promise<ApiKeyRecord> {
    const key = await this.store.apiKeys.get(checkId("id", id));
    if (!key) throw new NotFoundError(`API key "${id}" not found`);
    return key;
  }

  async list(query: ApiKeyListQuery): Promise<ApiKeyPage> {
    if (query.pageSize < 0) throw new InvalidArgumentError("page_size", "must not be negative");
    const limit = Math.min(query.pageSize || Limits.defaultPageSize, Limits.maxPageSize);
    const after = query.pageToken === "" ? undefined : decodeCursor(query.pageToken);
    // One extra row tells whether another page follows.
    const rows = await this.store.apiKeys.page({ limit: limit + 1, after, policyId: query.policyId || undefined });
    const keys = rows.slice(0, limit);
    const last = keys.at(-1);
    return { keys, nextPageToken: rows.length > limit && last ? encodeCursor(last) : "" };
  }

  async update(caller: Principal, id: string, changes: ApiKeyChanges): Promise<ApiKeyRecord> {
    checkId("api_key.id", id);
    if (changes.name !== undefined) checkName("api_key.name", changes.name);
    if (changes.policyId !== undefined) checkId("api_key.policy_id", changes.policyId);
    if ("expireTime" in changes) {
      checkExpireTime("api_key.expire_time", changes.expireTime, this.now(), this.settings.maxKeyTtlMs);
    }
    if (changes.allowedSubnets) refuseScoping("api_key.allowed_subnets", changes.allowedSubnets);
    if (changes.constraints) refuseScoping("api_key.constraints", changes.constraints);
    await this.store
      .transaction(async (repos) => {
        const current = await repos.apiKeys.getForUpdate(id);
        if (!current) throw new NotFoundError(`API key "${id}" not found`);
        await this.assertPolicyGrantable(repos, caller, current.policyId, "api_key.id", "cannot change this key");
        if (changes.policyId !== undefined && changes.policyId !== current.policyId) {
          await this.assertPolicyGrantable(repos, caller, changes.policyId, "api_key.policy_id");
        }
        await repos.apiKeys.update(id, changes, this.now());
      })
      .catch((e: unknown) => {
        throw e instanceof UniqueViolation ? keyNameTaken(changes.name) : e;
      });
    return this.get(id);
  }

  async delete(caller: Principal, id: string): Promise<void> {
    checkId("id", id);
    await this.store.transaction(async (repos) => {
      const current = await repos.apiKeys.getForUpdate(id);
      if (!current) throw new NotFoundError(`API key "${id}" not found`);
      await this.assertPolicyGrantable(repos, caller, current.policyId, "id", "cannot delete this key");
      await repos.apiKeys.delete(id);
    });
  }

  /** The policy exists and the caller holds everything it grants. */
  private async assertPolicyGrantable(
    repos: Repositories,
    caller: Principal,
    policyId: string,
    field: string,
    what = "cannot put a key on this policy",
  ): Promise<void> {
    const policy = await repos.policies.get(policyId);
    if (!policy) throw new NotFoundError(`${field}: policy "${policyId}" not found`);
    assertCallerCovers(caller, policy.permissions, what);
  }
}
