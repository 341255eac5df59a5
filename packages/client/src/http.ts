// Middleware for plain node:http servers and Express (same signature): the
// permissions come from a route table, since plain HTTP has no proto options.
//
//   const guard = keywardHttp(client, { routes: { "GET /orders": "orders.read", "POST /orders": "orders.write" } });
//   http.createServer(guard.wrap(handler))   or   app.use(guard)
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KeywardClient, Outcome } from "./client.js";
import { ANY_VALID_KEY } from "./declarations.js";
import { plainAddress, presentedKey } from "./request-parts.js";
import { attachVerifiedKey } from "./verified-key.js";

/**
 * "METHOD /path" → the permission(s) the route needs. `:name` matches one
 * path segment, a trailing `/*` any rest; METHOD may be `*`. Use ANY_VALID_KEY
 * for "any valid key". A request no route matches is refused (403): fail closed.
 */
export type Routes<P extends string = string> = Record<string, P | readonly P[]>;

export interface HttpGuardOptions<P extends string> {
  routes: Routes<P>;
  /** The client's address (default: the socket's peer). Behind a proxy, e.g. Express's `req.ip`. */
  clientIp?: (req: IncomingMessage) => string | undefined;
}

type Next = (err?: unknown) => void;

export interface HttpGuard {
  /** Express / Connect-style middleware. */
  (req: IncomingMessage, res: ServerResponse, next: Next): void;
  /** Wraps a node:http request handler. */
  wrap(handler: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void;
}

interface CompiledRoute {
  method: string;
  pattern: RegExp;
  permissions: readonly string[];
}

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");

function compile(routes: Routes): CompiledRoute[] {
  return Object.entries(routes).map(([route, needs]) => {
    const m = /^(\*|[A-Z]+) (\/\S*)$/.exec(route);
    if (!m) throw new Error(`route "${route}" must be "METHOD /path"`);
    const [, method, path] = m as unknown as [string, string, string];
    const source = path
      .split("/")
      .map((seg, i, all) => (seg === "*" && i === all.length - 1 ? ".*" : seg.startsWith(":") ? "[^/]+" : escape(seg)))
      .join("/");
    const permissions = typeof needs === "string" ? [needs] : needs;
    return { method, pattern: new RegExp(`^${source}$`), permissions };
  });
}

const STATUS = { unauthenticated: 401, permission_denied: 403, unavailable: 503, limited: 429 } as const;

function refuse(res: ServerResponse, outcome: Exclude<Outcome, { ok: true }>): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (outcome.status === "unauthenticated") headers["www-authenticate"] = 'Bearer realm="keyward"';
  if (outcome.status === "limited" && outcome.retryAfterSeconds !== undefined) headers["retry-after"] = String(outcome.retryAfterSeconds);
  res.writeHead(STATUS[outcome.status], headers).end(JSON.stringify({ error: outcome.reason }));
}

export function keywardHttp<P extends string = string>(client: KeywardClient, options: HttpGuardOptions<P>): HttpGuard {
  const routes = compile(options.routes);
  const clientIp = options.clientIp ?? ((req: IncomingMessage) => req.socket.remoteAddress);

  function guard(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const q = url.search(/[?#]/);
    const path = q === -1 ? url : url.slice(0, q);
    const route = routes.find((r) => (r.method === "*" || r.method === method) && r.pattern.test(path));
    if (!route) return refuse(res, { ok: false, status: "permission_denied", reason: "no permission is declared for this route" });
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const request = { key: presentedKey(header), permissions: route.permissions, method, path, clientIp: plainAddress(clientIp(req)) };
    client.check(request).then(
      (outcome) => {
        if (!outcome.ok) return refuse(res, outcome);
        attachVerifiedKey(req, outcome.key);
        next();
      },
      (err: unknown) => next(err),
    );
  }
  guard.wrap = (handler: (req: IncomingMessage, res: ServerResponse) => void) => (req: IncomingMessage, res: ServerResponse) =>
    guard(req, res, (err?: unknown) => {
      if (err === undefined) return handler(req, res);
      res.writeHead(500).end();
    });
  return guard;
}

export { ANY_VALID_KEY };
