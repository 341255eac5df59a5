import { createContextKey } from "@connectrpc/connect";
import type { Principal } from "../domain/principal.js";

/** The socket peer's address, set per request by the HTTP layer. */
export const clientIpKey = createContextKey<string>("", { description: "client IP" });

/** The authenticated caller, set by the auth interceptor for every non-public RPC. */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "principal" });

/** The id of the key the caller presented, once its secret is verified (also when it is then refused). */
export const actorKeyIdKey = createContextKey<string>("", { description: "actor key id" });

/** For REST calls, the HTTP method and path as the client sent them (constraints judge these). */
export const httpRequestKey = createContextKey<{ method: string; path: string } | undefined>(undefined, { description: "REST request" });
