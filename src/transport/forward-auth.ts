// HTTP forward auth (design §10): nginx `auth_request`, Caddy `forward_auth`
// and Traefik `ForwardAuth` ask Keyward, before passing a request upstream,
// whether the key the client presented may make it. The proxy authenticates
// with its own key; the verdict is CheckKey's (KeyChecker.decide), read from
// the headers these proxies send; the answer is a status they act on.
import type { IncomingHttpHeaders } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import type { KeyChecker, Verdict } from "../domain/check.js";
import { KeywardPermission } from "../domain/keyward-permissions.js";
import { toConnectError } from "./errors.js";
import { verdictCounter } from "./handlers/check.js";
import type { UsageRollups } from "../domain/usage-rollups.js";
import { callerRefusal, presentedKey } from "./interceptors.js";
import type { Metrics } from "./metrics.js";
import type { NodeRequest, NodeResponse } from "./one-port.js";
import { keywardHeaders, limitHeaders, proxyStatusOf, requiredPermissionsRule, verdictBody } from "./proxy-verdict.js";
import { errorBody, httpStatusOf } from "./rest/status.js";
import { httpRequestFacts, type RpcFacts, type RpcLog } from "./rpc-log.js";

export const FORWARD_AUTH_PATH = "/api/v1/forward_auth";
/** The name forward auth has in access lines and the RPC duration metric. */
const PROCEDURE = "keyward.v1.ForwardAuth";
const CALLER_NEEDS = [KeywardPermission.keysCheck];
/** The only query parameter: a permission the route requires (repeatable). */
const PERMISSION_PARAMETER = "permission";
const BEARER_PREFIX = /^Bearer[ \t]+/i;

export interface ForwardAuthDeps {
  checker: KeyChecker;
  metrics: Metrics;
  usage: UsageRollups;
  log: RpcLog;
  /** The client's address, as every other request's (the caller here is the proxy). */
  clientIpOf(peer: string, forwardedFor: string | string[] | undefined): string;
}

/** Node's headers as Web Headers read them (presentedKey takes those). */
class HeaderReader {
  constructor(private readonly headers: IncomingHttpHeaders) {}
  get(name: string): string | null {
    const value = this.headers[name];
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
  }
}

/** The path of a request target: the query (and a fragment, which no proxy should send) removed; judged as CheckKey judges `path`. */
const pathOf = (target: string): string => target.split(/[?#]/, 1)[0]!;

/**
 * The address of the client the proxy serves: X-Real-IP, else the last
 * X-Forwarded-For entry (the one the proxy appended). The proxy is
 * authenticated, so both are its word, not the client's, provided its
 * configuration overwrites what the client sent (README "Proxy integration").
 */
function originalClientIp(header: HeaderReader): string {
  const realIp = header.get("x-real-ip");
  if (realIp !== null) return unmapped(realIp.trim());
  const forwardedFor = header.get("x-forwarded-for");
  if (forwardedFor === null) return "";
  const entries = forwardedFor.split(",");
  return unmapped(entries[entries.length - 1]!.trim());
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, as every client address is read (server.ts normaliseIp). */
const unmapped = (ip: string): string => (ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip);

/** The permissions the route requires; any other query parameter is a configuration mistake (`?permissions=` would require nothing). */
function requiredPermissions(query: URLSearchParams): string[] {
  for (const name of query.keys()) {
    if (name !== PERMISSION_PARAMETER) {
      throw new ConnectError(`unknown query parameter "${name.slice(0, 64)}": name each required permission in ?${PERMISSION_PARAMETER}=`, Code.InvalidArgument);
    }
  }
  return query.getAll(PERMISSION_PARAMETER);
}

/**
 * The header in which a proxy asks for usage-limit denials as 403 instead of
 * 429: nginx's auth_request passes on only 2xx, 401 and 403 and turns any other
 * answer into 500, which a client would read as an outage and retry at once.
 * With 403 and x-keyward-code, nginx's configuration answers 429 itself (README).
 */
const LIMIT_STATUS_HEADER = "x-keyward-limit-status";

/** The status the proxy asked for usage-limit denials: 429 unless it says 403. */
function limitStatus(header: HeaderReader): 403 | 429 {
  const asked = header.get(LIMIT_STATUS_HEADER);
  if (asked === null || asked.trim() === "429") return 429;
  if (asked.trim() === "403") return 403;
  throw new ConnectError(`X-Keyward-Limit-Status must be 403 or 429, not "${asked.slice(0, 16)}"`, Code.InvalidArgument);
}

function sendVerdict(res: NodeResponse, verdict: Verdict, whenLimited: 403 | 429, nowMs: number): void {
  let status: number = proxyStatusOf(verdict.code);
  const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "no-store" };
  if (verdict.code === "VALID") for (const [name, value] of keywardHeaders(verdict)) headers[name] = value;
  if (status === 401) headers["www-authenticate"] = "Bearer";
  if (status === 429) {
    status = whenLimited;
    for (const [name, value] of limitHeaders(verdict, nowMs)) headers[name] = value;
  }
  res.writeHead(status, headers);
  res.end(verdictBody(verdict.code));
}

function sendError(res: NodeResponse, status: number, code: Code, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(errorBody(code, message)));
}

/** Serves forward auth; server.ts routes FORWARD_AUTH_PATH here, whatever the method. */
export function forwardAuth(deps: ForwardAuthDeps): (req: NodeRequest, res: NodeResponse) => void {
  const count = verdictCounter(deps.metrics, deps.usage);
  const checkPermissions = requiredPermissionsRule();

  async function serve(req: NodeRequest, res: NodeResponse, rpc: RpcFacts, startedAt: number): Promise<void> {
    const header = new HeaderReader(req.headers);
    const callerHeader = header.get("x-keyward-caller");
    if (callerHeader === null) {
      throw new ConnectError("the proxy sent no X-Keyward-Caller: it must send its own Keyward key there (its policy holding keyward.keys.check)", Code.Internal);
    }
    // Judged as the Connect path's auth interceptor judges a REST caller: on the method and path it sent.
    const caller = await deps.checker.decide({
      key: callerHeader.replace(BEARER_PREFIX, "").trim(),
      permissions: CALLER_NEEDS,
      method: req.method ?? "",
      path: pathOf(req.url ?? ""),
      clientIp: rpc.clientIp,
    });
    rpc.callerKeyId = caller.code === "VALID" ? caller.key.id : "keyId" in caller ? caller.keyId : "";
    // A proxy that cannot ask must not let anything through, and must not look like a client's refusal: 500, loudly.
    if (caller.code !== "VALID") {
      throw new ConnectError(`the proxy's own key (X-Keyward-Caller) was refused: ${callerRefusal(caller, KeywardPermission.keysCheck).rawMessage}`, Code.Internal);
    }
    const permissions = requiredPermissions(new URL(req.url ?? "/", "http://keyward").searchParams);
    checkPermissions(permissions, `?${PERMISSION_PARAMETER}`);
    const whenLimited = limitStatus(header);
    const now = deps.checker.now();
    const verdict = await deps.checker.decide({
      key: presentedKey(header) ?? "",
      permissions,
      method: header.get("x-forwarded-method") ?? header.get("x-original-method") ?? "",
      path: pathOf(header.get("x-forwarded-uri") ?? header.get("x-original-uri") ?? ""),
      clientIp: originalClientIp(header),
    }, now);
    count(verdict, now);
    sendVerdict(res, verdict, whenLimited, now.getTime());
    deps.log.finished(rpc, startedAt, undefined);
  }

  return (req, res) => {
    const startedAt = performance.now();
    const rpc = httpRequestFacts(PROCEDURE, req, deps.clientIpOf);
    serve(req, res, rpc, startedAt).catch((error: unknown) => {
      const connectError = toConnectError(error);
      // The proxy's own problems (its key, its configuration) are 500 for every proxy to fail closed on: nginx
      // turns any status but 2xx, 401 and 403 into 500, and Caddy and Traefik pass the status to the client.
      sendError(res, connectError.code === Code.Internal ? 500 : httpStatusOf(connectError.code), connectError.code, connectError.rawMessage);
      deps.log.finished(rpc, startedAt, connectError);
    });
  };
}
