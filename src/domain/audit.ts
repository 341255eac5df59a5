// The audit log: every admin mutation, written in the mutation's own
// transaction, and every refused admin attempt. Entries name fields, never values.
import type { AuditEventRecord } from "../storage/records.js";
import type { Repositories, Store } from "../storage/store.js";
import { decodePageToken, encodePageToken, readPage } from "./page-token.js";
import type { Principal } from "./principal.js";
import { isServiceName } from "./grants.js";
import { isId, newId } from "./random.js";

export const target = {
  apiKey: (id: string) => `api_keys/${id}`,
  policy: (id: string) => `policies/${id}`,
  service: (name: string) => `services/${name}`,
  webhookEndpoint: (id: string) => `webhook_endpoints/${id}`,
};

/** What a refused attempt's target says when the request named no well-formed id or name. */
export const INVALID_NAME = "<invalid>";

/**
 * The target of a refused attempt, from the raw request (the attempt never got
 * as far as validation): a well-formed id or service name as it is, anything
 * else as INVALID_NAME. So every refusal can be recorded (no value too long
 * for the index, no NUL Postgres refuses) and no value the caller sent — a
 * megabyte, credentials pasted where an id belongs — is ever stored.
 * Keyed by collection, the first segment of a target: the REST paths name a
 * resource the same way (/api/v1/api_keys/{id}), so transport reads there
 * which request field names an RPC's target.
 */
export const refusedTarget: ReadonlyMap<string, (value: string) => string> = new Map([
  ["api_keys", (id: string) => target.apiKey(isId(id) ? id : INVALID_NAME)],
  ["policies", (id: string) => target.policy(isId(id) ? id : INVALID_NAME)],
  ["services", (name: string) => target.service(isServiceName(name) ? name : INVALID_NAME)],
  ["webhook_endpoints", (id: string) => target.webhookEndpoint(isId(id) ? id : INVALID_NAME)],
]);

export interface AuditEntry {
  action: string;
  target: string;
  changedFields?: readonly string[];
  /** What an actor that is not a key said about the action (a leak report's source and URL); never a secret. */
  detail?: string;
}

/** The names of the fields a change sets (those not undefined), for `changedFields`. */
export const fieldsSet = (changes: Record<string, unknown>): string[] =>
  Object.entries(changes)
    .filter(([, value]) => value !== undefined)
    .map(([name]) => name);

/** Records a successful mutation; call inside the mutation's transaction. */
export async function audit(repos: Repositories, caller: Principal, entry: AuditEntry, now: Date): Promise<void> {
  await auditEach(repos, caller, [entry], now);
}

/** Records one event per entry, for a mutation that changes many things at once; call inside its transaction. */
export async function auditEach(repos: Repositories, caller: Principal, entries: readonly AuditEntry[], now: Date): Promise<void> {
  await repos.auditEvents.insertMany(
    entries.map((entry) => ({
      id: newId(),
      actorKeyId: caller.keyId,
      action: entry.action,
      target: entry.target,
      outcome: "OK",
      clientIp: caller.clientIp,
      createTime: now,
      changedFields: [...(entry.changedFields ?? [])],
      detail: entry.detail ?? "",
    })),
  );
}

export interface AuditListQuery {
  pageSize: number;
  pageToken: string;
  actorKeyId: string;
  target: string;
  startTime: Date | undefined;
  endTime: Date | undefined;
}

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
  ) {}

  /** Records a refused admin attempt (outside any transaction: the attempt wrote nothing). */
  async recordRefusal(entry: { actorKeyId: string; action: string; target: string; outcome: string; clientIp: string }): Promise<void> {
    await this.store.auditEvents.insert({ id: newId(), ...entry, createTime: this.now(), changedFields: [], detail: "" });
  }

  /** Newest first, a page at a time. */
  async list(q: AuditListQuery): Promise<{ events: AuditEventRecord[]; nextPageToken: string }> {
    const before = q.pageToken === "" ? undefined : decodePageToken(q.pageToken);
    const page = await readPage(
      q.pageSize,
      (limit) =>
        this.store.auditEvents.page({
          limit,
          before,
          actorKeyId: q.actorKeyId || undefined,
          target: q.target || undefined,
          startTime: q.startTime,
          endTime: q.endTime,
        }),
      encodePageToken,
    );
    return { events: page.rows, nextPageToken: page.nextPageToken };
  }
}
