// Keyward's API from the browser: Connect over HTTP with the generated
// service descriptors (no hand-written fetch), the key from sessionStorage.
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ApiKeyService } from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { WebhookService } from "../../gen/keyward/v1/webhooks_pb.js";

const STORAGE_KEY = "keyward.adminKey";

// sessionStorage only: the key is gone when the tab closes.
export const session = {
  get: (): string | null => sessionStorage.getItem(STORAGE_KEY),
  set: (key: string) => sessionStorage.setItem(STORAGE_KEY, key),
  clear: () => sessionStorage.removeItem(STORAGE_KEY),
};

/** The id of the key signed in with (credentials are `<prefix>_<16-character id>_<secret>`), to warn before removing it. */
export function signedInKeyId(): string | undefined {
  return /^[a-z][a-z0-9]{0,15}_([0-9A-Za-z]{16})_/.exec(session.get() ?? "")?.[1];
}

const bearer: Interceptor = (next) => (req) => {
  const key = session.get();
  if (key) req.header.set("authorization", `Bearer ${key}`);
  return next(req);
};

const transport = createConnectTransport({ baseUrl: window.location.origin, interceptors: [bearer] });

export const api = {
  keys: createClient(ApiKeyService, transport),
  policies: createClient(PolicyService, transport),
  permissions: createClient(PermissionService, transport),
  audit: createClient(AuditService, transport),
  check: createClient(CheckService, transport),
  webhooks: createClient(WebhookService, transport),
};

/** A message a person can act on. */
export function explain(error: unknown): string {
  const e = ConnectError.from(error);
  switch (e.code) {
    case Code.Unauthenticated:
      return "Your key was not accepted (unknown, expired or retired). Sign in again with a valid key.";
    case Code.PermissionDenied:
      return `Your key is not allowed to do this: ${e.rawMessage}`;
    case Code.Unavailable:
      return "Keyward cannot reach its database right now; try again shortly.";
    default:
      return e.rawMessage;
  }
}

/**
 * The field an INVALID_ARGUMENT names ("constraints[0].value"), and its message:
 * from the first protovalidate violation when the server sent them, otherwise
 * from the message ("constraints[0].value: …"), as the domain's checks say it.
 */
export function fieldError(error: unknown): { field: string; message: string } | undefined {
  const e = ConnectError.from(error);
  if (e.code !== Code.InvalidArgument) return undefined;
  const violation = e.findDetails(ViolationsSchema)[0]?.violations[0];
  const elements = violation?.field?.elements ?? [];
  if (violation && elements.length > 0) {
    const field = elements.map((el, i) => (i > 0 ? "." : "") + el.fieldName + (el.subscript.case === "index" ? `[${el.subscript.value}]` : "")).join("");
    return { field, message: violation.message };
  }
  const m = /^([a-z_][\w.[\]]*): (.*?)(?: \[[\w.]+\])?$/s.exec(violation?.message ?? e.rawMessage);
  return m ? { field: m[1]!, message: m[2]! } : undefined;
}
