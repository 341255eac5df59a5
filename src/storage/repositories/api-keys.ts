import { sql, type Kysely } from "kysely";
import type { ApiKeyRow, Database } from "../database.js";
import { publishChange, type ChangeSink } from "../changes.js";
import { translateDriverError } from "../errors.js";
import type { ApiKeyRecord, ApiKeyStateRecord, ConstraintRecord, CreditsRecord, KeyForCheck, RateLimitRecord } from "../records.js";
import { pastPosition } from "./keyset.js";
import { creditsOf } from "./usage.js";

export interface NewApiKey {
  id: string;
  name: string;
  policyId: string;
  secretHash: string;
  expireTime: Date;
  allowedSubnets: string[];
  constraints: ConstraintRecord[];
  service: string | null;
  /** Default: none. */
  rateLimits?: RateLimitRecord[];
  /** Default: none (unlimited). */
  credits?: CreditsRecord | null;
  /** Default: none. */
  labels?: Record<string, string>;
  creatorKeyId: string | null;
  now: Date;
}

/** The fields an update sets, each absent one left as it is: built by transport, checked by the domain, written here. */
export interface ApiKeyChanges {
  name?: string;
  policyId?: string;
  expireTime?: Date;
  allowedSubnets?: string[];
  constraints?: ConstraintRecord[];
  service?: string | null;
  rateLimits?: RateLimitRecord[];
  /** Sets (or, null, clears) the credits: leases taken before are never returned into the new pool. */
  credits?: CreditsRecord | null;
  /** Replaces every label. */
  labels?: Record<string, string>;
}

export interface ApiKeyPageQuery {
  limit: number;
  /** The sort column and direction; ties go by id in the same direction. */
  order: { column: "create_time" | "name" | "expire_time" | "last_used_time"; descending: boolean };
  /** The previous page's last row: its sort value (null = never used) and id. */
  after?: { value: string | Date | null; id: string };
  policyId?: string;
  state?: ApiKeyStateRecord;
  /** Only keys expiring at or before this time. */
  expiringBy?: Date;
  /** Only keys of this service. */
  service?: string;
  /** Only keys whose name contains this, ignoring case. */
  nameContains?: string;
  /** Only keys idle since at least this time: last used (or, never used, created) at or before it. */
  idleSince?: Date;
  /** Only keys with every one of these labels: a value, or null for any value. */
  labels?: ReadonlyArray<{ key: string; value: string | null }>;
}

type PublicRow = Omit<
  ApiKeyRow,
  "secret_hash" | "previous_secret_hash" | "previous_secret_expire_time" | "credits_epoch" | "credits_last_grant" | "expiring_notified_at" | "expired_notified_at" | "idle_warned_at"
>;

const toRecord = (row: PublicRow): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  policyId: row.policy_id,
  expireTime: row.expire_time,
  allowedSubnets: row.allowed_subnets,
  constraints: row.constraints,
  state: row.state,
  createTime: row.create_time,
  updateTime: row.update_time,
  lastUsedTime: row.last_used_time,
  creatorKeyId: row.creator_key_id,
  retireTime: row.retire_time,
  retirerKeyId: row.retirer_key_id,
  service: row.service,
  rateLimits: row.rate_limits,
  credits: creditsOf(row, new Date()),
  labels: row.labels,
});

// Every column but the hash: the hash leaves storage only through findForCheck.
const PUBLIC_COLUMNS = [
  "id",
  "name",
  "policy_id",
  "expire_time",
  "allowed_subnets",
  "constraints",
  "state",
  "create_time",
  "update_time",
  "last_used_time",
  "creator_key_id",
  "retire_time",
  "retirer_key_id",
  "service",
  "rate_limits",
  "credits_remaining",
  "credits_refill_amount",
  "credits_refill_interval",
  "credits_set_time",
  "labels",
] as const;

// Arbitrary constant shared by every replica: writes that may remove an admin
// key take it, so the check that one remains is race-free (domain/admin-guard.ts).
const ADMIN_CHANGES_LOCK_ID = 0x6b776164; // "kwad"
// Likewise for lifecycle rounds (domain/lifecycle.ts): one replica runs one at a time.
const LIFECYCLE_LOCK_ID = 0x6b776c63; // "kwlc"

// When a key's current idle spell began: its last use, or its creation if never used.
const IDLE_SINCE = sql<Date>`coalesce(last_used_time, create_time)`;

// A never-used key sorts as used longest ago, the same way in ORDER BY and in
// the keyset comparison, so paging neither skips nor repeats it.
const NEVER = sql<Date>`'-infinity'::timestamptz`;
const SORT_VALUE = {
  create_time: sql<Date>`create_time`,
  name: sql<string>`name`,
  expire_time: sql<Date>`expire_time`,
  last_used_time: sql<Date>`coalesce(last_used_time, '-infinity'::timestamptz)`,
} as const;
// The key's idle warning belongs to its current idle spell: it was given once the
// spell had lasted `warnAfterMs`. A use after the warning (or one recorded late,
// made before it) starts a new spell, and the old warning stops counting.
const idleWarnedFor = (warnAfterMs: number) =>
  sql<boolean>`idle_warned_at >= ${IDLE_SINCE} + ${warnAfterMs / 1000}::double precision * interval '1 second'`;

export class ApiKeyRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sink: ChangeSink,
  ) {}

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom("api_keys").select(PUBLIC_COLUMNS).where("id", "=", id).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Locks the key row until the transaction ends. */
  async getForUpdate(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db
      .selectFrom("api_keys")
      .select(PUBLIC_COLUMNS)
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /** Waits for, then holds until the transaction ends, the lock on changes that may remove an admin key. */
  async lockAdminChanges(): Promise<void> {
    await sql`select pg_advisory_xact_lock(${sql.lit(ADMIN_CHANGES_LOCK_ID)})`.execute(this.db);
  }

  /**
   * Takes, if no other transaction holds it, the lock a lifecycle round runs
   * under, until this transaction ends; false when another replica holds it.
   */
  async tryLockLifecycle(): Promise<boolean> {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${sql.lit(LIFECYCLE_LOCK_ID)}) as locked`.execute(this.db);
    return rows[0]?.locked === true;
  }

  /** The permissions of each policy with at least one active, unexpired, unconstrained key (other than `exceptKeyId`). */
  async policiesOfUsableKeys(now: Date, exceptKeyId?: string): Promise<string[][]> {
    const rows = await this.db
      .selectFrom("policies")
      .select("permissions")
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("api_keys")
            .select("api_keys.id")
            .whereRef("api_keys.policy_id", "=", "policies.id")
            .where("api_keys.state", "=", "active")
            .where("api_keys.expire_time", ">", now)
            .where(sql<boolean>`api_keys.constraints = '[]'::jsonb`)
            .$if(exceptKeyId !== undefined, (q) => q.where("api_keys.id", "<>", exceptKeyId!)),
        ),
      )
      .execute();
    return rows.map((r) => r.permissions);
  }

  /**
   * Lifecycle work due at `now`, at most `limit` keys, earliest first, each
   * row locked until the transaction ends (rows a change holds are skipped:
   * the next round takes them): active keys past their expiry not yet
   * announced as expired, …
   */
  async dueExpired(now: Date, limit: number): Promise<ApiKeyRecord[]> {
    return this.due(limit, (q) => q.where("expired_notified_at", "is", null).where("expire_time", "<=", now).orderBy("expire_time"));
  }

  /** … active keys expiring after `now` and by `warnBy` not yet warned about, … */
  async dueExpiring(now: Date, warnBy: Date, limit: number): Promise<ApiKeyRecord[]> {
    return this.due(limit, (q) =>
      q.where("expiring_notified_at", "is", null).where("expire_time", ">", now).where("expire_time", "<=", warnBy).orderBy("expire_time"),
    );
  }

  /**
   * … unexpired active keys idle (last used, or never used and created) for
   * `warnAfterMs` by `now` and not warned since they were due (a warning given
   * before, in an earlier idle spell, no longer counts), …
   */
  async dueIdleWarning(now: Date, warnAfterMs: number, limit: number): Promise<ApiKeyRecord[]> {
    return this.due(limit, (q) =>
      q
        .where("expire_time", ">", now)
        .where(sql<boolean>`${IDLE_SINCE} <= ${new Date(now.getTime() - warnAfterMs)}`)
        .where(sql<boolean>`not coalesce(${idleWarnedFor(warnAfterMs)}, false)`)
        .orderBy(IDLE_SINCE),
    );
  }

  /**
   * … and unexpired active keys idle for `retireAfterMs` by `now` whose idle
   * warning (given at or after `warnAfterMs` of this idle spell) is at least `leadMs` old.
   */
  async dueIdleRetirement(now: Date, warnAfterMs: number, retireAfterMs: number, leadMs: number, limit: number): Promise<ApiKeyRecord[]> {
    return this.due(limit, (q) =>
      q
        .where("expire_time", ">", now)
        .where(sql<boolean>`${IDLE_SINCE} <= ${new Date(now.getTime() - retireAfterMs)}`)
        .where(idleWarnedFor(warnAfterMs))
        .where("idle_warned_at", "<=", new Date(now.getTime() - leadMs))
        .orderBy(IDLE_SINCE),
    );
  }

  /** Records that these keys were warned of their idle retirement (`api_key.expiring`, reason "idle"). */
  async markIdleWarned(ids: readonly string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable("api_keys").set({ idle_warned_at: at }).where("id", "in", ids).execute();
  }

  private async due(
    limit: number,
    refine: (q: ReturnType<ApiKeyRepository["activeKeys"]>) => ReturnType<ApiKeyRepository["activeKeys"]>,
  ): Promise<ApiKeyRecord[]> {
    const rows = await refine(this.activeKeys()).orderBy("id").limit(limit).forUpdate().skipLocked().execute();
    return rows.map(toRecord);
  }

  private activeKeys() {
    return this.db.selectFrom("api_keys").select(PUBLIC_COLUMNS).where("state", "=", "active");
  }

  /** Records that these keys' expiry was announced (`api_key.expired`; the warning, moot now, counts as given). */
  async markExpiredNotified(ids: readonly string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable("api_keys")
      .set({ expired_notified_at: at, expiring_notified_at: sql<Date>`coalesce(expiring_notified_at, ${at})` })
      .where("id", "in", ids)
      .execute();
  }

  /** Records that these keys were warned of their coming expiry (`api_key.expiring`). */
  async markExpiringNotified(ids: readonly string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable("api_keys").set({ expiring_notified_at: at }).where("id", "in", ids).execute();
  }

  /** Keys in the asked order, after a cursor. */
  async page(q: ApiKeyPageQuery): Promise<ApiKeyRecord[]> {
    let query = this.db.selectFrom("api_keys").select(PUBLIC_COLUMNS);
    if (q.policyId !== undefined) query = query.where("policy_id", "=", q.policyId);
    if (q.state !== undefined) query = query.where("state", "=", q.state);
    if (q.expiringBy !== undefined) query = query.where("expire_time", "<=", q.expiringBy);
    if (q.service !== undefined) query = query.where("service", "=", q.service);
    if (q.idleSince !== undefined) query = query.where(sql<boolean>`${IDLE_SINCE} <= ${q.idleSince}`);
    // strpos, not LIKE: the text is matched as given, with no wildcards to escape.
    if (q.nameContains !== undefined) query = query.where(sql<boolean>`strpos(lower(name), lower(${q.nameContains})) > 0`);
    for (const { key, value } of q.labels ?? []) {
      query = query.where(value === null ? sql<boolean>`labels ? ${key}` : sql<boolean>`labels @> ${JSON.stringify({ [key]: value })}::jsonb`);
    }
    const sortValue = SORT_VALUE[q.order.column];
    // Compared in the column's own collation, as ORDER BY sorts it.
    if (q.after) query = query.where(pastPosition(sortValue, sql.ref("id"), { value: q.after.value ?? NEVER, id: q.after.id }, q.order.descending));
    const direction = q.order.descending ? "desc" : "asc";
    const rows = await query.orderBy(sortValue, direction).orderBy("id", direction).limit(q.limit).execute();
    return rows.map(toRecord);
  }

  /** The key, its hash and its policy in one round trip. */
  async findForCheck(id: string): Promise<KeyForCheck | undefined> {
    const row = await this.db
      .selectFrom("api_keys")
      .innerJoin("policies", "policies.id", "api_keys.policy_id")
      .select(PUBLIC_COLUMNS.map((c) => `api_keys.${c}` as const))
      .select([
        "api_keys.secret_hash",
        "api_keys.previous_secret_hash",
        "api_keys.previous_secret_expire_time",
        "policies.name as p_name",
        "policies.description as p_description",
        "policies.permissions as p_permissions",
        "policies.create_time as p_create_time",
        "policies.update_time as p_update_time",
        "policies.rate_limits as p_rate_limits",
      ])
      .where("api_keys.id", "=", id)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      key: toRecord(row),
      secretHash: row.secret_hash,
      previousSecret:
        row.previous_secret_hash !== null && row.previous_secret_expire_time !== null
          ? { hash: row.previous_secret_hash, expireTime: row.previous_secret_expire_time }
          : null,
      policy: {
        id: row.policy_id,
        name: row.p_name,
        description: row.p_description,
        permissions: row.p_permissions,
        createTime: row.p_create_time,
        updateTime: row.p_update_time,
        rateLimits: row.p_rate_limits,
      },
    };
  }

  async insert(k: NewApiKey): Promise<void> {
    await this.db
      .insertInto("api_keys")
      .values({
        id: k.id,
        name: k.name,
        policy_id: k.policyId,
        secret_hash: k.secretHash,
        expire_time: k.expireTime,
        allowed_subnets: k.allowedSubnets,
        constraints: JSON.stringify(k.constraints),
        state: "active",
        create_time: k.now,
        update_time: k.now,
        creator_key_id: k.creatorKeyId,
        service: k.service,
        rate_limits: JSON.stringify(k.rateLimits ?? []),
        credits_remaining: k.credits?.remaining ?? null,
        credits_refill_amount: k.credits?.refill?.amount ?? null,
        credits_refill_interval: k.credits?.refill?.interval ?? null,
        credits_set_time: k.credits ? k.now : null,
        labels: JSON.stringify(k.labels ?? {}),
      })
      .execute()
      .catch(translateDriverError);
  }

  async update(id: string, changes: ApiKeyChanges, now: Date): Promise<void> {
    await this.db
      .updateTable("api_keys")
      .set((eb) => ({
        name: changes.name,
        policy_id: changes.policyId,
        expire_time: changes.expireTime,
        allowed_subnets: changes.allowedSubnets,
        constraints: changes.constraints && JSON.stringify(changes.constraints),
        service: changes.service,
        rate_limits: changes.rateLimits && JSON.stringify(changes.rateLimits),
        labels: changes.labels && JSON.stringify(changes.labels),
        // A new expiry is announced afresh: warned of again, and its passing announced.
        ...(changes.expireTime !== undefined && {
          expiring_notified_at: sql<Date | null>`case when expire_time = ${changes.expireTime} then expiring_notified_at end`,
          expired_notified_at: sql<Date | null>`case when expire_time = ${changes.expireTime} then expired_notified_at end`,
        }),
        ...(changes.credits !== undefined && {
          credits_remaining: changes.credits?.remaining ?? null,
          credits_refill_amount: changes.credits?.refill?.amount ?? null,
          credits_refill_interval: changes.credits?.refill?.interval ?? null,
          credits_set_time: changes.credits ? now : null,
          credits_epoch: eb(eb.ref("credits_epoch"), "+", 1),
        }),
        update_time: now,
      }))
      .where("id", "=", id)
      .execute()
      .catch(translateDriverError);
    await publishChange(this.db, this.sink, { kind: "api_key", id });
  }

  async retire(id: string, retirerKeyId: string | null, now: Date): Promise<void> {
    await this.db
      .updateTable("api_keys")
      .set({ state: "retired", retire_time: now, retirer_key_id: retirerKeyId, update_time: now, previous_secret_hash: null, previous_secret_expire_time: null })
      .where("id", "=", id)
      .execute();
    await publishChange(this.db, this.sink, { kind: "api_key", id });
  }

  /**
   * Replaces the secret. The current one becomes the previous secret until
   * `previousExpireTime` (null = dropped at once); any older previous secret
   * is dropped, so a key never has more than two live secrets.
   */
  async rotate(id: string, secretHash: string, previousExpireTime: Date | null, now: Date): Promise<void> {
    await this.db
      .updateTable("api_keys")
      .set((eb) => ({
        previous_secret_hash: previousExpireTime === null ? null : eb.ref("secret_hash"),
        previous_secret_expire_time: previousExpireTime,
        secret_hash: secretHash,
        update_time: now,
      }))
      .where("id", "=", id)
      .execute();
    await publishChange(this.db, this.sink, { kind: "api_key", id });
  }

  /** Records last-use times in one statement; a time never moves backwards. */
  async touchLastUsed(uses: ReadonlyArray<{ id: string; time: Date }>): Promise<void> {
    if (uses.length === 0) return;
    const values = sql.join(uses.map((u) => sql`(${u.id}::text, ${u.time}::timestamptz)`));
    await sql`
      update api_keys set last_used_time = v.time
      from (values ${values}) as v(id, time)
      where api_keys.id = v.id and (api_keys.last_used_time is null or api_keys.last_used_time < v.time)`.execute(this.db);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom("api_keys").where("id", "=", id).executeTakeFirst();
    await publishChange(this.db, this.sink, { kind: "api_key", id });
    return result.numDeletedRows > 0n;
  }
}
