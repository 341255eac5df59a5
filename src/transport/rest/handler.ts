// The REST layer: /api/v1/... requests transcoded onto the same Connect
// handlers, with the same interceptors (authentication, authorization,
// logging, audit), as gRPC and Connect requests. One authorization path.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Code, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { httpRequestKey } from "../context.js";
import { checkRequestJson } from "../json-input.js";
import type { NodeRequest, NodeResponse } from "../one-port.js";
import { routeFinder, type RestRoute } from "./routes.js";
import { codeFromConnectName, detailsFromConnect, errorBody, httpStatusOf } from "./status.js";
import { TranscodeError, transcodeRequest } from "./transcode.js";

export const REST_PREFIX = "/api/v1/";

// Headers passed on to the RPC: credentials and what the Connect protocol reads.
// traceparent and tracestate: a REST call continues its caller's trace when tracing is on (src/telemetry.ts).
const FORWARDED_HEADERS = ["authorization", "api-key", "x-api-key", "user-agent", "connect-timeout-ms", "traceparent", "tracestate"];

export interface RestOptions {
  routes: readonly RestRoute[];
  handlers: readonly UniversalHandler[];
  maxBodyBytes: number;
  contextValues: (req: NodeRequest) => ContextValues;
}

function sendText(res: NodeResponse, status: number, json: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(json);
}

const send = (res: NodeResponse, status: number, body: unknown, headers: Record<string, string> = {}) => sendText(res, status, JSON.stringify(body), headers);

const sendError = (res: NodeResponse, code: Code, message: string) => send(res, httpStatusOf(code), errorBody(code, message));

/** A request body over the limit (413). */
export class BodyTooLarge extends Error {}

/** The whole request body, refused (BodyTooLarge) as soon as it is declared or read beyond `limit` bytes. */
export async function readBody(req: NodeRequest, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function collect(body: AsyncIterable<Uint8Array> | undefined): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  if (body) for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * The RPC's answer as REST sends it, `response_body` honoured. Connect has written the message as JSON
 * once already, with every field emitted (as grpc-gateway does): strictJsonRouter's per-method
 * `alwaysEmitImplicit` (src/transport/strict-json.ts). So the whole answer is passed on as it is, and
 * only a `response_body` field needs the JSON read.
 */
function responseText(route: RestRoute, connectJson: Buffer): Buffer | string {
  if (route.responseBody === "") return connectJson;
  const json = JSON.parse(connectJson.toString("utf8")) as JsonObject;
  const field = route.method.output.fields.find((f) => f.name === route.responseBody);
  return JSON.stringify(field ? (json[field.jsonName] ?? null) : json);
}

/** Returns a handler that serves REST requests, answering false for paths outside /api/v1/. */
export function createRestHandler(options: RestOptions): (req: NodeRequest, res: NodeResponse) => boolean {
  const byMethod = new Map(options.handlers.map((h) => [h.method, h]));
  const findRoute = routeFinder(options.routes);

  async function serve(req: NodeRequest, res: NodeResponse, url: URL): Promise<void> {
    const lookup = findRoute(req.method ?? "GET", url.pathname);
    if (!lookup.found) {
      if (lookup.allowed.length === 0) return sendError(res, Code.NotFound, `no route for ${url.pathname}`);
      // As grpc-gateway: 405 with Allow, and UNIMPLEMENTED in the body.
      return send(res, 405, errorBody(Code.Unimplemented, `method ${req.method} not allowed; use ${lookup.allowed.join(", ")}`), {
        allow: lookup.allowed.join(", "),
      });
    }
    const { route, variables } = lookup;
    let raw: Buffer;
    try {
      raw = await readBody(req, options.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) return send(res, 413, errorBody(Code.InvalidArgument, `request body exceeds ${options.maxBodyBytes} bytes`));
      throw error;
    }
    let requestJson: JsonObject;
    try {
      const text = raw.toString("utf8").trim();
      let body: JsonValue | undefined;
      try {
        body = text === "" ? undefined : (JSON.parse(text) as JsonValue);
      } catch {
        throw new TranscodeError("the request body is not valid JSON");
      }
      requestJson = transcodeRequest({ route, variables, query: url.searchParams, body });
      // Checked here so the error names the field. The Connect handler then decodes it, once, with
      // protobuf-es's strict fromJson as the backstop (an INVALID_ARGUMENT answer, mapped below).
      checkRequestJson(route.method.input, requestJson);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return sendError(res, Code.InvalidArgument, message);
    }

    const handler = byMethod.get(route.method);
    if (!handler) return sendError(res, Code.Unimplemented, `${route.method.name} is not served`);
    const header = new Headers({ "content-type": "application/json", "connect-protocol-version": "1" });
    for (const name of FORWARDED_HEADERS) {
      const value = req.headers[name];
      if (typeof value === "string") header.set(name, value);
    }
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    // The caller's constraints judge the path as sent, by the same rules as CheckKey: `url.pathname` has
    // had `\`, `..` and `%2e%2e` resolved away, which would hide from them a form they refuse.
    const sentPath = (req.url ?? "").split(/[?#]/)[0]!;
    const contextValues = options.contextValues(req).set(httpRequestKey, { method: req.method ?? "", path: sentPath });
    const response = await handler({
      httpVersion: req.httpVersion,
      url: `http://keyward${handler.requestPath}`,
      method: "POST",
      header,
      body: requestJson,
      signal: abort.signal,
      contextValues,
    });
    const answer = await collect(response.body);
    if (response.status === 200) return sendText(res, 200, responseText(route, answer));
    const text = answer.toString("utf8");
    const parsed = (text === "" ? {} : JSON.parse(text)) as JsonObject;
    const code = codeFromConnectName(parsed.code);
    send(res, httpStatusOf(code), errorBody(code, typeof parsed.message === "string" ? parsed.message : Code[code], detailsFromConnect(parsed.details)));
  }

  return (req, res) => {
    let url: URL;
    try {
      // A path such as "//x:%%" is no URL at all; it is not ours to serve.
      url = new URL(`http://keyward${req.url?.startsWith("/") ? req.url : "/"}`);
    } catch {
      return false;
    }
    if (!url.pathname.startsWith(REST_PREFIX) && url.pathname !== REST_PREFIX.slice(0, -1)) return false;
    serve(req, res, url).catch(() => {
      if (!res.headersSent) sendError(res, Code.Internal, "internal error");
      else res.destroy();
    });
    return true;
  };
}
