// Webhook endpoints and the outbox of their deliveries.
import { sql, type Kysely } from "kysely";
import type { ChangeSink } from "../changes.js";
import type { Database } from "../database.js";
import type { ClaimedDelivery, WebhookDeliveryRecord, WebhookDeliveryState, WebhookEndpointRecord } from "../records.js";

export interface NewDelivery {
  id: string;
  endpointId: string;
  eventType: string;
  body: string;
  createTime: Date;
}

/** What one attempt came to. */
export type AttemptOutcome =
  | { kind: "delivered"; statusCode: number; at: Date }
  | { kind: "retry"; statusCode: number; error: string; nextAttemptTime: Date; at: Date }
  | { kind: "failed"; statusCode: number; error: string; at: Date };

export class WebhookRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sink: ChangeSink,
  ) {}

  async insertEndpoint(e: WebhookEndpointRecord, secret: string, creatorKeyId: string | null): Promise<void> {
    await this.db
      .insertInto("webhook_endpoints")
      .values({ id: e.id, url: e.url, event_types: e.eventTypes, secret, create_time: e.createTime, creator_key_id: creatorKeyId })
      .execute();
  }

  /** Oldest first. The secret is not among the columns read. */
  async listEndpoints(): Promise<WebhookEndpointRecord[]> {
    const rows = await this.db
      .selectFrom("webhook_endpoints")
      .select(["id", "url", "event_types", "create_time", "disable_time"])
      .orderBy("create_time")
      .orderBy("id")
      .execute();
    return rows.map((r) => ({ id: r.id, url: r.url, eventTypes: r.event_types, createTime: r.create_time, disableTime: r.disable_time }));
  }

  /**
   * Replaces the endpoint's secret; the one replaced keeps signing (beside the
   * new one) until `previousExpireTime`, or stops at once when that is null.
   * False when there is no such endpoint.
   */
  async rotateSecret(id: string, secret: string, previousExpireTime: Date | null): Promise<boolean> {
    const result = await this.db
      .updateTable("webhook_endpoints")
      .set((eb) => ({
        secret,
        previous_secret: previousExpireTime === null ? null : eb.ref("secret"),
        previous_secret_expire_time: previousExpireTime,
      }))
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Disables the enabled endpoints whose deliveries have failed since before
   * `failingBefore`, and fails their pending deliveries (nothing more is sent
   * to them); returns their ids. Run it in a transaction.
   */
  async disableFailing(failingBefore: Date, now: Date): Promise<string[]> {
    const rows = await this.db
      .updateTable("webhook_endpoints")
      .set({ disable_time: now })
      .where("disable_time", "is", null)
      .where("failing_since", "<=", failingBefore)
      .returning("id")
      .execute();
    const ids = rows.map((r) => r.id);
    if (ids.length > 0) {
      await this.db
        .updateTable("webhook_deliveries")
        .set({ state: "failed", last_error: "the endpoint was disabled (KEYWARD_WEBHOOK_DISABLE_AFTER)" })
        .where("endpoint_id", "in", ids)
        .where("state", "=", "pending")
        .execute();
    }
    return ids;
  }

  /** Enables the endpoint again with a clean record; false when there is no such endpoint. */
  async enable(id: string): Promise<boolean> {
    const result = await this.db.updateTable("webhook_endpoints").set({ disable_time: null, failing_since: null }).where("id", "=", id).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async endpointExists(id: string): Promise<boolean> {
    return (await this.db.selectFrom("webhook_endpoints").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
  }

  /** Deletes the endpoint and (cascade) its deliveries; false when there was none. */
  async deleteEndpoint(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom("webhook_endpoints").where("id", "=", id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The enabled endpoints that want events of this type (a disabled one gets nothing until enabled again). */
  async endpointIdsFor(eventType: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("webhook_endpoints")
      .select("id")
      .where("disable_time", "is", null)
      .where((eb) => eb.or([eb(sql<number>`cardinality(event_types)`, "=", 0), eb(sql.val(eventType), "=", eb.fn.any("event_types"))]))
      .execute();
    return rows.map((r) => r.id);
  }

  async insertDeliveries(deliveries: readonly NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db
      .insertInto("webhook_deliveries")
      .values(
        deliveries.map((d) => ({
          id: d.id,
          endpoint_id: d.endpointId,
          event_type: d.eventType,
          body: d.body,
          state: "pending" as const,
          next_attempt_time: d.createTime,
          create_time: d.createTime,
        })),
      )
      .execute();
    this.sink({ kind: "outbox" });
  }

  /** Newest first. */
  async listDeliveries(endpointId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    const rows = await this.db
      .selectFrom("webhook_deliveries")
      .select(["id", "endpoint_id", "event_type", "state", "attempts", "last_status_code", "last_error", "create_time", "next_attempt_time", "deliver_time"])
      .where("endpoint_id", "=", endpointId)
      .orderBy("create_time", "desc")
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      endpointId: r.endpoint_id,
      eventType: r.event_type,
      state: r.state as WebhookDeliveryState,
      attempts: r.attempts,
      lastStatusCode: r.last_status_code,
      lastError: r.last_error,
      createTime: r.create_time,
      nextAttemptTime: r.next_attempt_time,
      deliverTime: r.deliver_time,
    }));
  }

  /**
   * Claims up to `limit` due deliveries in one statement: each claimed row's
   * next attempt moves to `leaseUntil` (so no one else takes it while this
   * attempt runs; if this replica dies, it is retried then) and its attempt
   * count goes up. SKIP LOCKED makes replicas claiming at the same moment take
   * different rows instead of waiting for, then re-taking, each other's.
   */
  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
    const { rows } = await sql<{ id: string; url: string; secret: string; previous_secret: string | null; body: string; attempts: number }>`
      update webhook_deliveries as d
         set attempts = d.attempts + 1, next_attempt_time = ${leaseUntil}
        from webhook_endpoints as e
       where e.id = d.endpoint_id
         and d.id in (
           select id from webhook_deliveries
            where state = 'pending' and next_attempt_time <= ${now}
            order by next_attempt_time
            limit ${limit}
            for update skip locked)
      returning d.id, e.url, e.secret,
                case when e.previous_secret_expire_time > ${now} then e.previous_secret end as previous_secret,
                d.body, d.attempts`.execute(this.db);
    return rows.map((r) => ({ id: r.id, url: r.url, secret: r.secret, previousSecret: r.previous_secret, body: r.body, attempts: Number(r.attempts) }));
  }

  /**
   * Records an attempt's outcome, unless the delivery has since been claimed
   * again (its lease ran out): the later attempt's outcome is the one kept.
   */
  async recordAttempt(id: string, attempts: number, outcome: AttemptOutcome): Promise<void> {
    const update =
      outcome.kind === "delivered"
        ? { state: "delivered" as const, deliver_time: outcome.at, last_status_code: outcome.statusCode, last_error: "" }
        : outcome.kind === "retry"
          ? { next_attempt_time: outcome.nextAttemptTime, last_status_code: outcome.statusCode, last_error: outcome.error }
          : { state: "failed" as const, last_status_code: outcome.statusCode, last_error: outcome.error };
    const recorded = await this.db
      .updateTable("webhook_deliveries")
      .set(update)
      .where("id", "=", id)
      .where("attempts", "=", attempts)
      .where("state", "=", "pending")
      .returning("endpoint_id")
      .executeTakeFirst();
    if (!recorded) return;
    // The endpoint's failing streak: ended by any delivery, started by the first failure after one.
    await this.db
      .updateTable("webhook_endpoints")
      .set((eb) => ({ failing_since: outcome.kind === "delivered" ? null : eb.fn.coalesce("failing_since", sql.val(outcome.at)) }))
      .where("id", "=", recorded.endpoint_id)
      .execute();
  }

  /** Deletes finished deliveries (delivered or failed) created before `before`. */
  async pruneFinished(before: Date): Promise<number> {
    const result = await this.db.deleteFrom("webhook_deliveries").where("state", "<>", "pending").where("create_time", "<", before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
