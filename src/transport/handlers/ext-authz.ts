// Envoy's external authorization (design §10): envoy.service.auth.v3
// Authorization/Check, which Envoy's ext_authz filter calls over gRPC before
// passing a request upstream. The caller (Envoy, with its own key in the
// call's `authorization` metadata) is authenticated by the auth interceptor
// like any caller of CheckKey; the verdict is CheckKey's, on the request
// Envoy describes in `attributes`.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { HeaderValueOption_HeaderAppendAction, type HeaderValueOptionSchema } from "../../../gen/envoy/config/core/v3/base_pb.js";
import type { AttributeContext_HttpRequest, AttributeContext_Peer } from "../../../gen/envoy/service/auth/v3/attribute_context_pb.js";
import { Authorization, type CheckResponseSchema } from "../../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { StatusCode } from "../../../gen/envoy/type/v3/http_status_pb.js";
import type { KeyChecker, Verdict } from "../../domain/check.js";
import { presentedKey, presentedKeyHeader } from "../interceptors.js";
import type { Metrics } from "../metrics.js";
import { keywardHeaders, limitHeaders, proxyStatusOf, requiredPermissionsRule, verdictBody } from "../proxy-verdict.js";
import { verdictCounter } from "./check.js";
import type { UsageRollups } from "../../domain/usage-rollups.js";

/** The context extension a route sets to name the permissions it requires, comma-separated. */
export const PERMISSIONS_EXTENSION = "keyward-permissions";

type HeaderOption = MessageInitShape<typeof HeaderValueOptionSchema>;
type Answer = MessageInitShape<typeof CheckResponseSchema>;

/**
 * The original request's headers by lower-case name: Envoy sends either the
 * `headers` map (keys lower-cased, repeated headers joined by commas) or, when
 * configured to send raw headers, `header_map`.
 */
function headersOf(http: AttributeContext_HttpRequest | undefined): { get(name: string): string | null } {
  const list = http?.headerMap?.headers ?? [];
  if (list.length === 0) return { get: (name) => http?.headers[name] ?? null };
  const joined = new Map<string, string>();
  for (const h of list) {
    const name = h.key.toLowerCase();
    const value = h.rawValue.length > 0 ? Buffer.from(h.rawValue).toString("utf8") : h.value;
    joined.set(name, joined.has(name) ? `${joined.get(name)}, ${value}` : value);
  }
  return { get: (name) => joined.get(name) ?? null };
}

/** The downstream client's address, as Envoy saw it (`::ffff:` mapped IPv4 read as IPv4). */
function sourceIp(source: AttributeContext_Peer | undefined): string {
  const address = source?.address?.address;
  if (address?.case !== "socketAddress") return "";
  const ip = address.value.address;
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

const overwrite = (key: string, value: string): HeaderOption => ({
  header: { key, value },
  appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
});

/** OK: the request goes upstream with the x-keyward-* headers (a client's own are overwritten), without the key's header. */
function allowed(verdict: Extract<Verdict, { code: "VALID" }>, keyHeader: string | undefined): Answer {
  return {
    // google.rpc.Code OK; Connect's Code numbers the others as google.rpc.Code does.
    status: { code: 0 },
    httpResponse: {
      case: "okResponse",
      value: {
        headers: keywardHeaders(verdict).map(([name, value]) => overwrite(name, value)),
        headersToRemove: keyHeader === undefined ? [] : [keyHeader],
      },
    },
  };
}

/** Envoy's status for the client, and the call's (google.rpc.Code, as Connect's Code numbers them), by HTTP status. */
const DENIALS = {
  401: { http: StatusCode.Unauthorized, rpc: Code.Unauthenticated },
  403: { http: StatusCode.Forbidden, rpc: Code.PermissionDenied },
  429: { http: StatusCode.TooManyRequests, rpc: Code.ResourceExhausted },
} as const;

/** A denial: 401 (with WWW-Authenticate), 403, or 429 (with Retry-After) to the client, the verdict as the JSON body. */
function denied(verdict: Exclude<Verdict, { code: "VALID" }>, nowMs: number): Answer {
  const status = proxyStatusOf(verdict.code) as keyof typeof DENIALS;
  const headers = [overwrite("content-type", "application/json"), overwrite("cache-control", "no-store")];
  if (status === 401) headers.push(overwrite("www-authenticate", "Bearer"));
  for (const [name, value] of limitHeaders(verdict, nowMs)) headers.push(overwrite(name, value));
  return {
    status: { code: DENIALS[status].rpc, message: `CHECK_CODE_${verdict.code}` },
    httpResponse: {
      case: "deniedResponse",
      value: { status: { code: DENIALS[status].http }, headers, body: verdictBody(verdict.code) },
    },
  };
}

export function extAuthzHandlers(checker: KeyChecker, metrics: Metrics, usage: UsageRollups): ServiceImpl<typeof Authorization> {
  const count = verdictCounter(metrics, usage);
  const checkPermissions = requiredPermissionsRule();
  return {
    async check(req) {
      const attributes = req.attributes;
      const http = attributes?.request?.http;
      const permissions = (attributes?.contextExtensions[PERMISSIONS_EXTENSION] ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== "");
      checkPermissions(permissions, `attributes.context_extensions["${PERMISSIONS_EXTENSION}"]`);
      const headers = headersOf(http);
      const now = checker.now();
      const verdict = await checker.check({
        key: presentedKey(headers) ?? "",
        permissions,
        method: http?.method ?? "",
        // `path` is the request target: judged without its query, as CheckKey judges a path.
        path: (http?.path ?? "").split(/[?#]/, 1)[0]!,
        clientIp: sourceIp(attributes?.source),
      }, now);
      count(verdict, now);
      return verdict.code === "VALID" ? allowed(verdict, presentedKeyHeader(headers)) : denied(verdict, now.getTime());
    },
  };
}
