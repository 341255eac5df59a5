import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { Principal } from "../domain/principal.js";
import { principalKey } from "./context.js";

/** The caller the auth interceptor authenticated; its absence is a wiring bug, so fail closed. */
export function callerOf(ctx: HandlerContext): Principal {
  const principal = ctx.values.get(principalKey);
  if (!principal) throw new ConnectError("unauthenticated", Code.Unauthenticated);
  return principal;
}
