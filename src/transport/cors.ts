// CORS for browser tooling on Connect and REST. Origins come from
// KEYWARD_CORS_ORIGINS; with none configured, no CORS header is ever sent.
import type { NodeRequest, NodeResponse } from "./one-port.js";

const ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE";
const ALLOW_HEADERS = [
  "authorization",
  "api-key",
  "x-api-key",
  "content-type",
  "connect-protocol-version",
  "connect-timeout-ms",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
].join(", ");
const EXPOSE_HEADERS = "grpc-status, grpc-message, grpc-status-details-bin";

/**
 * Adds CORS headers for allowed origins. Returns true when it answered the
 * request itself (a preflight), false when the request goes on.
 */
export function corsPolicy(allowedOrigins: readonly string[]): (req: NodeRequest, res: NodeResponse) => boolean {
  const anyOrigin = allowedOrigins.includes("*");
  const allowed = new Set(allowedOrigins);
  return (req, res) => {
    const origin = req.headers.origin;
    if (typeof origin !== "string" || !(anyOrigin || allowed.has(origin))) return false;
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("vary", "origin");
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      res.writeHead(204, {
        "access-control-allow-methods": ALLOW_METHODS,
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": "7200",
      });
      res.end();
      return true;
    }
    res.setHeader("access-control-expose-headers", EXPOSE_HEADERS);
    return false;
  };
}
