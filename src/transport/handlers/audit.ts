// AuditService: AdminListAuditEvents.
import type { ServiceImpl } from "@connectrpc/connect";
import { AuditService } from "../../../gen/keyward/v1/audit_pb.js";
import { UnimplementedError } from "../../domain/errors.js";

export function auditHandlers(): ServiceImpl<typeof AuditService> {
  return {
    adminListAuditEvents() {
      throw new UnimplementedError("AdminListAuditEvents arrives with the audit log work");
    },
  };
}
