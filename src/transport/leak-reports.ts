// POST /api/v1/leak_reports (design §8): GitHub's secret-scanning partner
// format, served as plain HTTP beside the REST layer rather than as an RPC:
// the body is a bare JSON array, and its signature covers the exact bytes
// received, which transcoding onto a protobuf message would not keep.
//
// Order matters: nothing in the body is looked at before its signature is
// verified, so a forged or unsigned report retires nothing and costs no argon2.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { InvalidArgumentError } from "../domain/errors.js";
import { MAX_LEAK_REPORT_TOKENS, type LeakedToken, type LeakReports } from "../domain/leak-reports.js";
import { toConnectError } from "./errors.js";
import type { NodeRequest, NodeResponse } from "./one-port.js";
import { BodyTooLarge, readBody } from "./rest/handler.js";
import { errorBody, httpStatusOf } from "./rest/status.js";
import { httpRequestFacts, type RpcFacts, type RpcLog } from "./rpc-log.js";

export const LEAK_REPORTS_PATH = "/api/v1/leak_reports";
/** The name leak reports have in access lines and the RPC duration metric. */
const PROCEDURE = "keyward.v1.LeakReports";
const KEY_ID_HEADER = "github-public-key-identifier";
const SIGNATURE_HEADER = "github-public-key-signature";

export interface LeakReportDeps {
  /** Undefined: no scanner's key is configured (KEYWARD_LEAK_REPORT_PUBLIC_KEYS), and the path answers 404. */
  reports: LeakReports | undefined;
  log: RpcLog;
  logger: Logger;
  maxBodyBytes: number;
  clientIpOf(peer: string, forwardedFor: string | string[] | undefined): string;
}

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** A refusal whose HTTP status is not its code's usual one (REST maps INVALID_ARGUMENT to 400; 405 and 413 say more). */
class HttpRefusal extends Error {
  constructor(
    message: string,
    readonly code: Code,
    readonly status: number,
  ) {
    super(message);
  }
}

const tooLarge = (what: string) => new HttpRefusal(what, Code.InvalidArgument, 413);

/** The report's matches; anything but an array of objects whose `token` is a string is refused. Unknown fields are ignored: the scanner may add some. */
function tokensOf(raw: Buffer): LeakedToken[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new InvalidArgumentError("body", "is not JSON; expected an array of {token, type, url, source}");
  }
  if (!Array.isArray(parsed)) throw new InvalidArgumentError("body", "expected a JSON array of {token, type, url, source}");
  if (parsed.length > MAX_LEAK_REPORT_TOKENS) throw tooLarge(`a report may carry at most ${MAX_LEAK_REPORT_TOKENS} tokens, got ${parsed.length}; send the rest in another`);
  return parsed.map((entry: unknown, i): LeakedToken => {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) throw new InvalidArgumentError(`[${i}]`, "expected an object {token, type, url, source}");
    const { token, type, url, source } = entry as Record<string, unknown>;
    if (typeof token !== "string") throw new InvalidArgumentError(`[${i}].token`, "expected a string");
    const text = (name: string, value: unknown): string => {
      if (value === undefined || value === null) return "";
      if (typeof value !== "string") throw new InvalidArgumentError(`[${i}].${name}`, "expected a string");
      return value;
    };
    return { token, type: text("type", type), url: text("url", url), source: text("source", source) };
  });
}

function send(res: NodeResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** Serves leak reports; server.ts routes LEAK_REPORTS_PATH here, whatever the method. */
export function leakReports(deps: LeakReportDeps): (req: NodeRequest, res: NodeResponse) => void {
  async function serve(req: NodeRequest, res: NodeResponse, rpc: RpcFacts): Promise<void> {
    const reports = deps.reports;
    if (!reports) throw new ConnectError("leak reports are off: no scanner's public key is configured (KEYWARD_LEAK_REPORT_PUBLIC_KEYS)", Code.NotFound);
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      throw new HttpRefusal(`method ${(req.method ?? "").slice(0, 16)} not allowed: leak reports are POSTed`, Code.InvalidArgument, 405);
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, deps.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) throw tooLarge(`request body exceeds ${deps.maxBodyBytes} bytes`);
      throw error;
    }
    const signerKeyId = single(req.headers[KEY_ID_HEADER]);
    if (!reports.keys.verify(signerKeyId, single(req.headers[SIGNATURE_HEADER]), raw)) {
      deps.logger.warn({ clientIp: rpc.clientIp, signerKeyId: signerKeyId?.slice(0, 128) }, "refused a leak report: its signature is missing, wrong, or by an unknown key");
      throw new ConnectError(
        "the report's signature does not verify: Github-Public-Key-Signature must be the base64 ECDSA P-256 SHA-256 signature of the body by the key Github-Public-Key-Identifier names",
        Code.Unauthenticated,
      );
    }
    const tokens = tokensOf(raw);
    const feedback = await reports.judge(signerKeyId!.trim(), rpc.clientIp, tokens);
    const truePositives = feedback.filter((f) => f.label === "true_positive").length;
    deps.logger.info({ clientIp: rpc.clientIp, signerKeyId: signerKeyId!.trim().slice(0, 128), tokens: tokens.length, truePositives }, "leak report judged");
    send(
      res,
      200,
      feedback.map((f) => ({ token_hash: f.tokenHash, token_type: f.tokenType, label: f.label })),
    );
  }

  return (req, res) => {
    const startedAt = performance.now();
    const rpc = httpRequestFacts(PROCEDURE, req, deps.clientIpOf);
    serve(req, res, rpc).then(
      () => deps.log.finished(rpc, startedAt, undefined),
      (error: unknown) => {
        const connectError = error instanceof HttpRefusal ? new ConnectError(error.message, error.code) : toConnectError(error);
        const status = error instanceof HttpRefusal ? error.status : httpStatusOf(connectError.code);
        send(res, status, errorBody(connectError.code, connectError.rawMessage));
        deps.log.finished(rpc, startedAt, connectError);
      },
    );
  };
}
