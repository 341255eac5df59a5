// Builds Keyward's HTTP surface on one port; never listens (main.ts and tests do).
import { createConnectRouter, createContextValues, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { clientIpKey } from "./transport/context.js";
import { corsPolicy } from "./transport/cors.js";
import { FORWARD_AUTH_PATH, forwardAuth } from "./transport/forward-auth.js";
import { LEAK_REPORTS_PATH, leakReports } from "./transport/leak-reports.js";
import type { Metrics } from "./transport/metrics.js";
import { staticFiles } from "./transport/static-files.js";
import { useMinimalGrpcMessageEncoding } from "./transport/grpc-message.js";
import { grpcCheckKey } from "./transport/handlers/check-grpc.js";
import { tracingInterceptor } from "./transport/tracing-interceptor.js";
import { auditRefusalInterceptor, authInterceptor, requestLogInterceptor, requestValidationInterceptor, requestValidator } from "./transport/interceptors.js";
import {
  DEFAULT_CONNECTION_LIMITS,
  OnePortServer,
  type ConnectionLimits,
  type NodeRequest,
  type NodeResponse,
  type RequestHandler,
} from "./transport/one-port.js";
import type { RpcLog } from "./transport/rpc-log.js";
import type { Readiness } from "./transport/readiness.js";
import { createRestHandler } from "./transport/rest/handler.js";
import { openApiDocument } from "./transport/rest/openapi.js";
import { restRoutes } from "./transport/rest/routes.js";
import { KEYWARD_SERVICES } from "./transport/authorization.js";
import { routes, type DomainServices } from "./transport/connect-services.js";
import { strictJsonRouter } from "./transport/strict-json.js";

/** The largest request message Keyward reads (Connect `readMaxBytes`). */
export const READ_MAX_BYTES = 1024 * 1024;

function sendJson(res: NodeResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export interface ServerSettings {
  /** How many proxies in front of Keyward append to X-Forwarded-For (0: use the socket peer). */
  trustedProxyHops: number;
  /** The dashboard's built files, served at "/" (absent: no dashboard). */
  webRoot: string;
  /** Origins browsers may call from (CORS); empty = none. */
  corsOrigins: readonly string[];
  connections: { headersTimeoutMs: number; requestTimeoutMs: number; maxConnections: number; maxConcurrentStreams: number };
  /** Serve gRPC CheckKey on the HTTP/2 stream API (handlers/check-grpc.ts); false leaves it to Connect (tests compare the two). */
  grpcFastPath?: boolean;
  /** A span per RPC (src/telemetry.ts); CheckKey over gRPC then goes through Connect too, where the span is made. */
  tracing?: boolean;
}

export const OPENAPI_PATH = "/api/v1/openapi.json";

/**
 * The client's address: the socket peer, or, behind `hops` trusted proxies,
 * the X-Forwarded-For entry the outermost trusted proxy appended (entries
 * further left were written by the client and prove nothing).
 */
export function clientIpOf(peer: string, forwardedFor: string | string[] | undefined, hops: number): string {
  if (hops > 0 && forwardedFor !== undefined) {
    const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",").map((e) => e.trim());
    const entry = entries[entries.length - hops];
    if (entry) return normaliseIp(entry);
  }
  return normaliseIp(peer);
}

/** The limits a server built with `connections` applies. */
export const connectionLimits = (connections: ServerSettings["connections"]): ConnectionLimits => ({
  ...DEFAULT_CONNECTION_LIMITS,
  ...connections,
});

/** Readiness (send traffic here?): the store answers and Keyward is not draining. /healthz is its older name. */
const READINESS_PATHS = new Set(["/readyz", "/healthz"]);
/**
 * Liveness (restart this process?): it answers at all. Never tied to the store:
 * a database outage must not get every replica restarted, and a start that
 * is still opening its store is alive.
 */
const LIVENESS_PATH = "/livez";

/**
 * What the port answers while the store is being opened: alive, not ready
 * (NOT_SERVING), everything else 503 (gRPC clients read UNAVAILABLE and retry).
 */
export const startingHandler: RequestHandler = (req, res) => {
  const path = (req.url ?? "/").split("?")[0]!;
  if (path === LIVENESS_PATH) sendJson(res, 200, { status: "LIVE" });
  else if (READINESS_PATHS.has(path)) sendJson(res, 503, { status: "NOT_SERVING" });
  else sendJson(res, 503, { code: "unavailable", message: "Keyward is starting" });
};

/** Builds Keyward's server, or installs its handler in `existing` (already listening). */
export function buildServer(
  services: DomainServices,
  readiness: Readiness,
  metrics: Metrics,
  rpcLog: RpcLog,
  logger: Logger,
  settings: ServerSettings,
  existing?: OnePortServer,
): OnePortServer {
  // First is outermost: every RPC is logged, including those auth refuses, and refused mutations are audited;
  // only an authorized caller learns what is wrong with its request.
  const validator = requestValidator();
  const interceptors = [
    ...(settings.tracing ? [tracingInterceptor()] : []),
    requestLogInterceptor(rpcLog),
    auditRefusalInterceptor(services.audit, logger),
    authInterceptor(services.checker),
    requestValidationInterceptor(validator),
  ];
  // Every JSON request is checked strictly: unknown fields and malformed values are refused, naming the field.
  const serve = routes(services, readiness, metrics);
  const register = (router: ConnectRouter) => serve(strictJsonRouter(router));
  const clientIp = (peer: string, forwardedFor: string | string[] | undefined) => clientIpOf(peer, forwardedFor, settings.trustedProxyHops);
  const contextValues = (req: NodeRequest) => createContextValues().set(clientIpKey, clientIp(req.socket.remoteAddress ?? "", req.headers["x-forwarded-for"]));

  const connect = connectNodeAdapter({
    routes: register,
    interceptors,
    readMaxBytes: READ_MAX_BYTES,
    contextValues,
    fallback: (_req, res) => sendJson(res, 404, { code: "not_found", message: "no such path" }),
  });
  // REST goes through a router with the very same routes and interceptors.
  const router = createConnectRouter({ interceptors, readMaxBytes: READ_MAX_BYTES });
  register(router);
  const rest = restRoutes(KEYWARD_SERVICES);
  const restHandler = createRestHandler({ routes: rest, handlers: router.handlers, maxBodyBytes: READ_MAX_BYTES, contextValues });
  // Built at its first request, not at start (tens of milliseconds of a start).
  let openapi: string | undefined;
  const cors = corsPolicy(settings.corsOrigins);
  const dashboard = staticFiles(settings.webRoot);
  const proxyAuth = forwardAuth({ checker: services.checker, metrics, usage: services.usage, log: rpcLog, clientIpOf: clientIp });
  const leaks = leakReports({ reports: services.leakReports, log: rpcLog, logger, maxBodyBytes: READ_MAX_BYTES, clientIpOf: clientIp });

  const handler: RequestHandler = (req: NodeRequest, res: NodeResponse) => {
    if (cors(req, res)) return;
    const path = (req.url ?? "/").split("?")[0]!;
    const read = req.method === "GET" || req.method === "HEAD";
    if (path === LIVENESS_PATH && read) return sendJson(res, 200, { status: "LIVE" });
    if (READINESS_PATHS.has(path!) && read) {
      void readiness.isReady().then((ready) => sendJson(res, ready ? 200 : 503, { status: ready ? "SERVING" : "NOT_SERVING" }));
      return;
    }
    if (path === "/metrics" && read) {
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    if (path === OPENAPI_PATH && read) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end((openapi ??= JSON.stringify(openApiDocument(rest, "v1"))));
      return;
    }
    // Any method: proxies ask with the method they were configured with, or the client's.
    if (path === FORWARD_AUTH_PATH) return proxyAuth(req, res);
    // Plain HTTP: a bare JSON array, signed over its raw bytes (transport/leak-reports.ts).
    if (path === LEAK_REPORTS_PATH) return leaks(req, res);
    if (restHandler(req, res)) return;
    if (dashboard(req, res)) return;
    if (req.headers["content-type"]?.startsWith("application/grpc")) useMinimalGrpcMessageEncoding(res);
    connect(req, res);
  };
  const streams =
    settings.grpcFastPath === false || settings.tracing
      ? undefined
      : grpcCheckKey({ checker: services.checker, metrics, usage: services.usage, log: rpcLog, validator, readMaxBytes: READ_MAX_BYTES, clientIpOf: clientIp });
  if (!existing) return new OnePortServer(handler, connectionLimits(settings.connections), streams);
  existing.setHandler(handler);
  existing.streamHandler = streams;
  return existing;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`: IPv4 peers on a dual-stack socket read as IPv4. */
export const normaliseIp = (ip: string): string => (ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip);
