// AuditService: AdminListAuditEvents.
import type { ServiceImpl } from "@connectrpc/connect";
import { AuditService } from "../../../gen/keyward/v1/audit_pb.js";
import type { AuditLog } from "../../domain/audit.js";
import { auditEventToProto, dateOf } from "../convert.js";

export function auditHandlers(log: AuditLog): ServiceImpl<typeof AuditService> {
  return {
    async adminListAuditEvents(req) {
      const page = await log.list({
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        actorKeyId: req.actorKeyId,
        target: req.target,
        startTime: dateOf(req.startTime),
        endTime: dateOf(req.endTime),
      });
      return { auditEvents: page.events.map(auditEventToProto), nextPageToken: page.nextPageToken };
    },
  };
}
