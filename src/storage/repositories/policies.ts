import { sql, type Kysely } from "kysely";
import type { Database, PolicyRow } from "../database.js";
import { publishChange, type ChangeSink } from "../changes.js";
import { translateDriverError } from "../errors.js";
import type { ConstraintRecord, PolicyRecord, RateLimitRecord } from "../records.js";
import { pastPosition } from "./keyset.js";

export interface NewPolicy {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  /** Default: none. */
  rateLimits?: RateLimitRecord[];
  creatorKeyId: string | null;
  now: Date;
}

/** The fields an update sets, each absent one left as it is: built by transport, checked by the domain, written here. */
export interface PolicyChanges {
  name?: string;
  description?: string;
  permissions?: string[];
  rateLimits?: RateLimitRecord[];
}

export interface PolicyPageQuery {
  limit: number;
  after?: { createTime: Date; id: string };
  /** Only policies whose name contains this, ignoring case. */
  nameContains?: string;
}

const toRecord = (row: PolicyRow & { api_key_count: number | string | bigint }): PolicyRecord => ({
  id: row.id,
  name: row.name,
  description: row.description,
  permissions: row.permissions,
  createTime: row.create_time,
  updateTime: row.update_time,
  // pg returns count(*) as a string, PGlite as a number.
  apiKeyCount: Number(row.api_key_count),
  rateLimits: row.rate_limits,
});

export class PolicyRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sink: ChangeSink,
  ) {}

  private selectWithCount() {
    return this.db
      .selectFrom("policies")
      .selectAll("policies")
      .select((eb) =>
        eb
          .selectFrom("api_keys")
          .select(sql<number>`count(*)`.as("n"))
          .whereRef("api_keys.policy_id", "=", "policies.id")
          .as("api_key_count"),
      );
  }

  async list(): Promise<PolicyRecord[]> {
    const rows = await this.selectWithCount().orderBy("name").execute();
    return rows.map((r) => toRecord({ ...r, api_key_count: r.api_key_count ?? 0 }));
  }

  /** Policies in creation order, after a cursor. */
  async page(q: PolicyPageQuery): Promise<PolicyRecord[]> {
    let query = this.selectWithCount();
    // strpos, not LIKE: the text is matched as given, with no wildcards to escape.
    if (q.nameContains !== undefined) query = query.where(sql<boolean>`strpos(lower(policies.name), lower(${q.nameContains})) > 0`);
    if (q.after) query = query.where(pastPosition(sql.ref("policies.create_time"), sql.ref("policies.id"), { value: q.after.createTime, id: q.after.id }, false));
    const rows = await query.orderBy("policies.create_time").orderBy("policies.id").limit(q.limit).execute();
    return rows.map((r) => toRecord({ ...r, api_key_count: r.api_key_count ?? 0 }));
  }

  async get(id: string): Promise<PolicyRecord | undefined> {
    const row = await this.selectWithCount().where("id", "=", id).executeTakeFirst();
    return row && toRecord({ ...row, api_key_count: row.api_key_count ?? 0 });
  }

  /** Only the policy's permissions and patterns: what a key write checks the caller against. */
  async permissionsOf(id: string): Promise<string[] | undefined> {
    const row = await this.db.selectFrom("policies").select("permissions").where("id", "=", id).executeTakeFirst();
    return row?.permissions;
  }

  /** Only the policy's rate limits: what a key without its own is limited by. */
  async rateLimitsOf(id: string): Promise<RateLimitRecord[]> {
    const row = await this.db.selectFrom("policies").select("rate_limits").where("id", "=", id).executeTakeFirst();
    return row?.rate_limits ?? [];
  }

  /** Locks the policy row until the transaction ends, so concurrent writers serialise. */
  async getForUpdate(id: string): Promise<PolicyRecord | undefined> {
    const row = await this.db.selectFrom("policies").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
    return row && toRecord({ ...row, api_key_count: 0 });
  }

  async insert(p: NewPolicy): Promise<void> {
    await this.db
      .insertInto("policies")
      .values({
        id: p.id,
        name: p.name,
        description: p.description,
        permissions: p.permissions,
        create_time: p.now,
        update_time: p.now,
        creator_key_id: p.creatorKeyId,
        rate_limits: JSON.stringify(p.rateLimits ?? []),
      })
      .execute()
      .catch(translateDriverError);
  }

  async update(id: string, changes: PolicyChanges, now: Date): Promise<void> {
    await this.db
      .updateTable("policies")
      .set({
        name: changes.name,
        description: changes.description,
        permissions: changes.permissions,
        rate_limits: changes.rateLimits && JSON.stringify(changes.rateLimits),
        update_time: now,
      })
      .where("id", "=", id)
      .execute()
      .catch(translateDriverError);
    await publishChange(this.db, this.sink, { kind: "policy", id });
  }

  /** The subnets and constraints of every key on the policy, locked until the transaction ends. */
  async keyRestrictionsForUpdate(id: string): Promise<Array<{ id: string; allowedSubnets: string[]; constraints: ConstraintRecord[] }>> {
    const rows = await this.db
      .selectFrom("api_keys")
      .select(["id", "allowed_subnets", "constraints"])
      .where("policy_id", "=", id)
      .forUpdate()
      .execute();
    return rows.map((r) => ({ id: r.id, allowedSubnets: r.allowed_subnets, constraints: r.constraints }));
  }

  /** Deletes the policy; its keys go with it (ON DELETE CASCADE). Returns the ids of the keys that went. */
  async delete(id: string): Promise<{ deleted: boolean; apiKeyIds: string[] }> {
    const keys = await this.db.deleteFrom("api_keys").where("policy_id", "=", id).returning("id").execute();
    const policy = await this.db.deleteFrom("policies").where("id", "=", id).executeTakeFirst();
    // One notification covers the policy and every key on it.
    await publishChange(this.db, this.sink, { kind: "policy", id });
    return { deleted: policy.numDeletedRows > 0n, apiKeyIds: keys.map((k) => k.id) };
  }
}
