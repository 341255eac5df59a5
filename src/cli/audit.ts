// keyward audit tail [--follow]
import { create } from "@bufbuild/protobuf";
import { setTimeout as sleep } from "node:timers/promises";
import { durationMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  AdminListAuditEventsResponseSchema,
  AuditEventSchema,
  AuditService,
  type AuditEvent,
} from "../../gen/keyward/v1/audit_pb.js";
import { positional, stringFlag, type Command } from "./command.js";
import { table, time } from "./output.js";
import { count, duration } from "./values.js";

const row = (e: AuditEvent): string[] => [time(e.createTime), e.actorKeyId, e.action, e.target, e.outcome, e.clientIp, e.changedFields.join(",")];
const HEADERS = ["TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "CLIENT", "CHANGED"];
// Wide enough for the usual values, so that rows --follow prints later line up with the first.
const WIDTHS = [20, 16, 26, 26, 19, 15];

const tail: Command = {
  path: ["audit", "tail"],
  summary: "Show the latest audit events, oldest first; with --follow, keep printing new ones.",
  flags: {
    lines: { type: "string", short: "n", value: "N", help: "how many of the latest events (default 20)" },
    follow: { type: "boolean", short: "f", help: "keep polling for new events until interrupted" },
    interval: { type: "string", value: "DURATION", help: "how often --follow polls (default 2s)" },
    actor: { type: "string", value: "ID", help: "only events by this key" },
    target: { type: "string", value: "TARGET", help: "only events on this resource, e.g. api_keys/ID" },
  },
  notes: ["With --json and --follow, each event is one line of JSON (an AuditEvent)."],
  async run(session, values, args) {
    positional(args, []);
    const lines = count("lines", stringFlag(values, "lines")) ?? 20;
    const intervalMs = durationMs(duration("interval", stringFlag(values, "interval") ?? "2s"));
    const filter = { actorKeyId: stringFlag(values, "actor") ?? "", target: stringFlag(values, "target") ?? "" };
    const client = await session.client(AuditService);
    const first = await client.adminListAuditEvents({ ...filter, pageSize: Math.min(lines, 1000) });
    const latest = first.auditEvents.slice().reverse();
    const follow = values.follow === true;

    if (session.json && !follow) {
      return session.printJson(AdminListAuditEventsResponseSchema, create(AdminListAuditEventsResponseSchema, { auditEvents: latest }));
    }
    const show = (events: AuditEvent[], withHeader: boolean) => {
      if (session.json) for (const e of events) session.printJson(AuditEventSchema, e, true);
      else if (events.length > 0 || withHeader) {
        const t = table(HEADERS, events.map(row), WIDTHS);
        session.print(...(withHeader ? t : t.slice(1)));
      }
    };
    show(latest, true);
    if (!follow) return;

    // Polls from the newest time seen (the list's start_time is inclusive),
    // leaving out the events already printed at that very time.
    let since: Timestamp | undefined = latest.at(-1)?.createTime;
    const seenAtSince = new Set(latest.filter((e) => sameInstant(e.createTime, since)).map((e) => e.id));
    for (;;) {
      await sleep(intervalMs);
      const fresh: AuditEvent[] = [];
      let pageToken = "";
      do {
        const page = await client.adminListAuditEvents({ ...filter, pageSize: 1000, pageToken, ...(since ? { startTime: since } : {}) });
        fresh.push(...page.auditEvents.filter((e) => !seenAtSince.has(e.id)));
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      if (fresh.length === 0) continue;
      fresh.reverse();
      show(fresh, false);
      const newest = fresh.at(-1)!.createTime;
      if (!sameInstant(newest, since)) seenAtSince.clear();
      since = newest;
      for (const e of fresh) if (sameInstant(e.createTime, since)) seenAtSince.add(e.id);
    }
  },
};

const sameInstant = (a: Timestamp | undefined, b: Timestamp | undefined): boolean =>
  a !== undefined && b !== undefined && a.seconds === b.seconds && a.nanos === b.nanos;

export const AUDIT_COMMANDS: Command[] = [tail];
