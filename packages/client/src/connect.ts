// A Connect interceptor (connect-node, and its fastify and express adapters):
//
//   connectNodeAdapter({ routes, interceptors: [keywardInterceptor(client)],
//     contextValues: (req) => createContextValues().set(keywardClientIp, req.socket.remoteAddress ?? "") })
//
// Each method needs what its proto options declare; one that declares nothing is refused.
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { KeywardClient } from "./client.js";
import { declaredService } from "./declarations.js";
import { plainAddress, presentedKey } from "./request-parts.js";
import type { VerifiedKey } from "./verified-key.js";

/** Set this in the adapter's contextValues to pass the client's address on. */
export const keywardClientIp = createContextKey<string>("", { description: "the client's address, for Keyward" });
/** The verified key, in a handler's context: `ctx.values.get(keywardKey)`. */
export const keywardKey = createContextKey<VerifiedKey | undefined>(undefined, { description: "the key Keyward verified" });

const CODES = { unauthenticated: Code.Unauthenticated, permission_denied: Code.PermissionDenied, unavailable: Code.Unavailable, limited: Code.ResourceExhausted } as const;

export function keywardInterceptor(client: KeywardClient): Interceptor {
  const requirements = new Map<DescMethod, readonly string[] | undefined>();
  const requirementOf = (method: DescMethod) => {
    if (!requirements.has(method)) {
      for (const m of declaredService(method.parent).methods) if (m.path === `/${method.parent.typeName}/${method.name}`) requirements.set(method, m.requirement);
    }
    return requirements.get(method);
  };
  return (next) => async (req) => {
    const permissions = requirementOf(req.method);
    if (permissions === undefined) throw new ConnectError("no permission is declared for this method", Code.PermissionDenied);
    const key = presentedKey((n) => req.header.get(n) ?? undefined);
    const path = new URL(req.url).pathname;
    const outcome = await client.check({ key, permissions, method: req.requestMethod, path, clientIp: plainAddress(req.contextValues.get(keywardClientIp)) });
    if (!outcome.ok) throw new ConnectError(outcome.reason, CODES[outcome.status]);
    req.contextValues.set(keywardKey, outcome.key);
    return next(req);
  };
}
