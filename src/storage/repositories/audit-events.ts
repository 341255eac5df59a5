import { sql, type Kysely } from "kysely";
import type { AuditEventRow, Database } from "../database.js";
import type { AuditEventRecord } from "../records.js";
import { pastPosition } from "./keyset.js";

export interface AuditQuery {
  limit: number;
  /** Events strictly older than this cursor (newest first). */
  before?: { createTime: Date; id: string };
  actorKeyId?: string;
  target?: string;
  startTime?: Date;
  endTime?: Date;
}

const toRecord = (r: AuditEventRow): AuditEventRecord => ({
  id: r.id,
  actorKeyId: r.actor_key_id,
  action: r.action,
  target: r.target,
  outcome: r.outcome,
  clientIp: r.client_ip,
  createTime: r.create_time,
  changedFields: r.changed_fields,
  detail: r.detail,
});

export class AuditEventRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(e: AuditEventRecord): Promise<void> {
    await this.insertMany([e]);
  }

  /** Many events in few statements (a policy deletion records one per key it deleted). */
  async insertMany(events: readonly AuditEventRecord[]): Promise<void> {
    // 9 parameters a row: 1000 rows stay far below PostgreSQL's 65535 per statement.
    for (let i = 0; i < events.length; i += 1000) {
      const rows = events.slice(i, i + 1000).map((e) => ({
        id: e.id,
        actor_key_id: e.actorKeyId,
        action: e.action,
        target: e.target,
        outcome: e.outcome,
        client_ip: e.clientIp,
        create_time: e.createTime,
        changed_fields: e.changedFields,
        detail: e.detail,
      }));
      await this.db.insertInto("audit_events").values(rows).execute();
    }
  }

  /** Newest first. */
  async page(q: AuditQuery): Promise<AuditEventRecord[]> {
    let query = this.db.selectFrom("audit_events").selectAll();
    if (q.actorKeyId) query = query.where("actor_key_id", "=", q.actorKeyId);
    if (q.target) query = query.where("target", "=", q.target);
    if (q.startTime) query = query.where("create_time", ">=", q.startTime);
    if (q.endTime) query = query.where("create_time", "<", q.endTime);
    if (q.before) query = query.where(pastPosition(sql.ref("create_time"), sql.ref("id"), { value: q.before.createTime, id: q.before.id }, true));
    const rows = await query.orderBy("create_time", "desc").orderBy("id", "desc").limit(q.limit).execute();
    return rows.map(toRecord);
  }
}
