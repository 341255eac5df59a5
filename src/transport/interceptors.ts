import { createRegistry, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { createValidator, type Validator } from "@bufbuild/protovalidate";
import { createValidateInterceptor } from "@connectrpc/validate";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { refusedTarget, type AuditLog } from "../domain/audit.js";
import type { KeyChecker, Verdict } from "../domain/check.js";
import { AUTHENTICATED, KEYWARD_SERVICES, PUBLIC, procedureOf, requirementOf, servesRotatedOutSecret } from "./authorization.js";
import { assertCurrentSecret, principalOf } from "../domain/principal.js";
import { actorKeyIdKey, clientIpKey, httpRequestKey, principalKey } from "./context.js";
import { toConnectError } from "./errors.js";
import { restRoutes } from "./rest/routes.js";
import type { RpcFacts, RpcLog } from "./rpc-log.js";
import { file_keyward_v1_field_rules } from "../../gen/keyward/v1/field_rules_pb.js";

/**
 * Outermost: one log line per RPC (procedure, code, duration, caller key id)
 * and the mapping of every error to a Connect code.
 */
export function requestLogInterceptor(log: RpcLog): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    // Read when the RPC ends: the caller's key id is known only after authentication.
    const facts = (): RpcFacts => ({
      procedure: `${req.service.typeName}/${req.method.name}`,
      protocol: req.header.get("content-type")?.split(";")[0] ?? "",
      callerKeyId: req.contextValues.get(actorKeyIdKey),
      clientIp: req.contextValues.get(clientIpKey),
    });
    try {
      const res = await next(req);
      log.finished(facts(), started, undefined);
      return res;
    } catch (error) {
      const connectError = toConnectError(error);
      log.finished(facts(), started, connectError);
      throw connectError;
    }
  };
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The path of an absolute URL, without parsing the whole URL (this runs on every RPC). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

/** The key presented in `Authorization: Bearer`, `api-key` or `x-api-key` (`header` as Web Headers read it). */
export function presentedKey(header: { get(name: string): string | null }): string | undefined {
  const authorization = header.get("authorization");
  if (authorization !== null) return BEARER.exec(authorization)?.[1] ?? "";
  return header.get("api-key") ?? header.get("x-api-key") ?? undefined;
}

const SEND_BEARER = "send the key as 'Authorization: Bearer <key>'";

/**
 * The presented key, or the refusal that tells the caller how to send one. The
 * Connect path and the hand-written gRPC check path both call it, so their
 * answers match byte for byte. The header's value is never echoed: it may be a key.
 */
export function requiredKey(header: { get(name: string): string | null }): string {
  const key = presentedKey(header);
  if (key === undefined) throw new ConnectError(`missing API key: ${SEND_BEARER}`, Code.Unauthenticated);
  if (key === "" && header.get("authorization") !== null) {
    throw new ConnectError(`the Authorization header holds no Bearer key: ${SEND_BEARER}`, Code.Unauthenticated);
  }
  return key;
}

/** The header presentedKey reads the key from (a proxy removes it before the request goes upstream). */
export function presentedKeyHeader(header: { get(name: string): string | null }): "authorization" | "api-key" | "x-api-key" | undefined {
  if (header.get("authorization") !== null) return "authorization";
  if (header.get("api-key") !== null) return "api-key";
  return header.get("x-api-key") !== null ? "x-api-key" : undefined;
}

/**
 * Authenticates the caller with the same code as CheckKey and authorizes the
 * RPC against the caller's policy; the principal is then in the context.
 */
export function authInterceptor(checker: KeyChecker): Interceptor {
  return (next) => async (req) => {
    const requirement = requirementOf(req.method);
    if (requirement === PUBLIC) return next(req);
    if (requirement === undefined) throw new ConnectError("this procedure is not available", Code.PermissionDenied);
    const key = requiredKey(req.header);
    const clientIp = req.contextValues.get(clientIpKey);
    // A REST call is judged on the path the client sent, not the RPC's.
    const request = req.contextValues.get(httpRequestKey) ?? { method: req.requestMethod, path: pathOf(req.url) };
    // An RPC any valid key may call is authorized by its operation, the key's constraints
    // included (domain/principal.ts withinConstraints): the check judges the key, not the path.
    const byOperation = requirement === AUTHENTICATED;
    const verdict = await checker.check({
      key,
      permissions: byOperation ? [] : [requirement],
      method: request.method,
      path: request.path,
      clientIp,
      skipConstraints: byOperation,
    });
    req.contextValues.set(actorKeyIdKey, verdict.code === "VALID" ? verdict.key.id : "keyId" in verdict ? verdict.keyId : "");
    switch (verdict.code) {
      case "VALID": {
        const principal = principalOf(verdict, request, clientIp);
        // Checked only for such a secret: the common case stays a field read.
        if (principal.secretRotatedOut && !servesRotatedOutSecret(req.method)) assertCurrentSecret(principal);
        req.contextValues.set(principalKey, principal);
        return next(req);
      }
      default:
        throw callerRefusal(verdict, requirement);
    }
  };
}

/** What a caller whose own key is refused is told (every path that authenticates callers says the same). */
export function callerRefusal(verdict: Exclude<Verdict, { code: "VALID" }>, requirement: string): ConnectError {
  switch (verdict.code) {
    case "PERMISSION_DENIED":
      return new ConnectError(`this key's policy does not hold ${requirement}`, Code.PermissionDenied);
    case "SUBNET_DENIED":
    case "CONSTRAINT_DENIED":
      return new ConnectError("this key may not be used for this request", Code.PermissionDenied);
    case "EXPIRED":
      return new ConnectError("the API key has expired", Code.Unauthenticated);
    case "RETIRED":
      return new ConnectError("the API key was retired", Code.Unauthenticated);
    case "MALFORMED":
    case "NOT_FOUND":
      return new ConnectError("invalid API key", Code.Unauthenticated);
    case "RATE_LIMITED":
      return new ConnectError(`this key is over its rate limit; retry after ${verdict.usage.resetTimeMs === null ? "a while" : new Date(verdict.usage.resetTimeMs).toISOString()}`, Code.ResourceExhausted);
    case "USAGE_EXCEEDED":
      return new ConnectError("this key has no credits left", Code.ResourceExhausted);
  }
}


const isMutation = (method: DescMethod): boolean =>
  method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS && requirementOf(method) !== PUBLIC;

/** The properties a dotted proto field path (`api_key.id`) reads, in turn, from a message of `schema`. */
function propertiesOf(schema: DescMessage, fieldPath: string): string[] {
  let message: DescMessage | undefined = schema;
  return fieldPath.split(".").map((name) => {
    const field = message?.fields.find((f) => f.name === name);
    if (!field) throw new Error(`${schema.typeName} has no field ${fieldPath}`);
    message = field.fieldKind === "message" ? field.message : undefined;
    return field.localName;
  });
}

/**
 * The target of each admin mutation's refusals, declared by its REST path
 * (google.api.http): the resource the path names, its last variable
 * (`{api_key.id}` in /api/v1/api_keys/{api_key.id}) in the collection before
 * it, which is the audit target's own (api_keys/ID, domain/audit.ts). Read
 * once from the descriptors; a path naming no resource (a creation) has none.
 */
const refusalTargets = new Map<string, { properties: string[]; name: (value: string) => string; declared: string }>();
for (const route of restRoutes(KEYWARD_SERVICES)) {
  const procedure = procedureOf(route.method);
  // The first route of an RPC is its main binding; additional ones are aliases.
  if (!isMutation(route.method) || refusalTargets.has(procedure)) continue;
  const variable = route.template.variables.at(-1);
  if (variable === undefined) continue;
  const matcher = route.template.matchers[variable.start - 1];
  const collection = matcher?.kind === "literal" ? matcher.value : "";
  const name = refusedTarget.get(collection);
  if (name === undefined) throw new Error(`${procedure}: ${route.template.source} names no resource the audit log knows (domain/audit.ts refusedTarget)`);
  refusalTargets.set(procedure, { properties: propertiesOf(route.method.input, variable.fieldPath), name, declared: `${collection}/{${variable.fieldPath}}` });
}

/** The audit target a refused call of `method` is recorded with, as its REST path declares it (`api_keys/{id}`); undefined: none. */
export const declaredRefusalTarget = (method: DescMethod): string | undefined => refusalTargets.get(procedureOf(method))?.declared;

/** The resource a refused request names, for the audit log (empty for creations); never a raw request value. */
function targetOf(method: DescMethod, message: unknown): string {
  const declared = refusalTargets.get(procedureOf(method));
  if (declared === undefined) return "";
  let value = message;
  for (const property of declared.properties) value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[property] : undefined;
  return typeof value === "string" && value !== "" ? declared.name(value) : "";
}

const REFUSALS = new Set([Code.Unauthenticated, Code.PermissionDenied]);

/**
 * Records every refused admin mutation (no valid key, missing permission, an
 * escalation attempt) in the audit log. Successful mutations are recorded by
 * the domain, in their own transaction.
 */
export function auditRefusalInterceptor(audit: AuditLog, logger: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      const connectError = toConnectError(error);
      if (isMutation(req.method) && REFUSALS.has(connectError.code)) {
        await audit
          .recordRefusal({
            actorKeyId: req.contextValues.get(actorKeyIdKey),
            action: req.method.name,
            target: req.stream ? "" : targetOf(req.method, req.message),
            outcome: Code[connectError.code],
            clientIp: req.contextValues.get(clientIpKey),
          })
          .catch((auditError: unknown) => logger.error({ err: auditError }, "could not record a refused attempt"));
      }
      throw connectError;
    }
  };
}

/**
 * Innermost: checks the request against the protovalidate rules declared on its
 * message in proto/ (lengths, counts, characters, ranges) before any handler
 * runs. A violation is INVALID_ARGUMENT naming the field, with the violations
 * as a `buf.validate.Violations` detail; nothing has been read or written yet.
 */
export function requestValidationInterceptor(validator: Validator = requestValidator()): Interceptor {
  return createValidateInterceptor({ validator });
}

let validator: Validator | undefined;

/**
 * The validator for request messages; Keyward's predefined rules (display_name,
 * free_text) must be known to it. One per process: it plans a message's rules,
 * compiling their CEL, at the message's first request, and a plan depends only
 * on the protos (tests start dozens of Keywards in each process).
 */
export const requestValidator = (): Validator => (validator ??= createValidator({ registry: createRegistry(file_keyward_v1_field_rules) }));
