import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { KeyChecker } from "../domain/check.js";
import { parseGrants } from "../domain/permissions.js";
import { PUBLIC, requirementOf } from "./authorization.js";
import { clientIpKey, principalKey } from "./context.js";
import { toConnectError } from "./errors.js";

/**
 * Outermost: one log line per RPC (procedure, code, duration, caller key id)
 * and the mapping of every error to a Connect code. Never logs a message body
 * or a header, so no secret can reach the log from here.
 */
export function requestLogInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const line = () => ({
      procedure: `${req.service.typeName}/${req.method.name}`,
      protocol: req.header.get("content-type")?.split(";")[0] ?? "",
      callerKeyId: req.contextValues.get(principalKey)?.keyId,
      clientIp: req.contextValues.get(clientIpKey),
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
    try {
      const res = await next(req);
      logger.info({ ...line(), code: "ok" }, "rpc");
      return res;
    } catch (error) {
      const connectError = toConnectError(error);
      const fields = { ...line(), code: Code[connectError.code] };
      if (connectError.code === Code.Internal || connectError.code === Code.Unavailable) {
        logger.error({ ...fields, err: connectError.cause ?? connectError }, "rpc failed");
      } else {
        logger.info({ ...fields, reason: connectError.rawMessage }, "rpc");
      }
      throw connectError;
    }
  };
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The key presented in `Authorization: Bearer`, `api-key` or `x-api-key`. */
export function presentedKey(header: Headers): string | undefined {
  const authorization = header.get("authorization");
  if (authorization !== null) return BEARER.exec(authorization)?.[1] ?? "";
  return header.get("api-key") ?? header.get("x-api-key") ?? undefined;
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
    const key = presentedKey(req.header);
    if (key === undefined) {
      throw new ConnectError("missing API key: send it as 'Authorization: Bearer <key>'", Code.Unauthenticated);
    }
    const clientIp = req.contextValues.get(clientIpKey);
    const verdict = await checker.check({
      key,
      permissions: [requirement],
      method: req.requestMethod,
      path: new URL(req.url).pathname,
      clientIp,
    });
    switch (verdict.code) {
      case "VALID":
        req.contextValues.set(principalKey, {
          keyId: verdict.key.id,
          policyId: verdict.policy.id,
          grants: parseGrants(verdict.policy.permissions),
          clientIp,
        });
        return next(req);
      case "PERMISSION_DENIED":
        throw new ConnectError(`this key's policy does not hold ${requirement}`, Code.PermissionDenied);
      case "SUBNET_DENIED":
      case "CONSTRAINT_DENIED":
        throw new ConnectError("this key may not be used for this request", Code.PermissionDenied);
      case "EXPIRED":
        throw new ConnectError("the API key has expired", Code.Unauthenticated);
      case "RETIRED":
        throw new ConnectError("the API key was retired", Code.Unauthenticated);
      case "MALFORMED":
      case "NOT_FOUND":
        throw new ConnectError("invalid API key", Code.Unauthenticated);
    }
  };
}

