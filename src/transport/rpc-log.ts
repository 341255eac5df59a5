// The record of each RPC: its duration metric and one access line. Shared by
// the Connect interceptor and the HTTP/2 fast path of CheckKey, so both log
// and measure alike. Never given a message body or a header: no secret can
// reach the log from here.
import type { IncomingHttpHeaders } from "node:http";
import { Code, type ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { bounded } from "../logged-error.js";
import { scalarLineLogger } from "../logger.js";
import type { Metrics } from "./metrics.js";

export interface RpcFacts {
  /** `package.Service/Method`. */
  procedure: string;
  /** The request's content type, without parameters. */
  protocol: string;
  /** The caller's key id once its secret was verified, else empty. */
  callerKeyId: string;
  clientIp: string;
}

/** A plain-HTTP endpoint's request (forward auth, leak reports) as the RPC log records it, before its caller is known. */
export function httpRequestFacts(
  procedure: string,
  req: { socket: { remoteAddress?: string }; headers: IncomingHttpHeaders },
  clientIpOf: (peer: string, forwardedFor: string | string[] | undefined) => string,
): RpcFacts {
  return { procedure, protocol: "http", callerKeyId: "", clientIp: clientIpOf(req.socket.remoteAddress ?? "", req.headers["x-forwarded-for"]) };
}

type Observer = { observe(seconds: number): void };

/** How often the summary of answered checks is written, and how many callers one summary names. */
const SUMMARY_INTERVAL_MS = 1_000;
const SUMMARY_MAX_CALLERS = 100;

export class RpcLog {
  private readonly accessLine: Logger;
  // Histogram children bound once per (procedure, code): a label lookup per call costs more than the observation.
  private readonly durations = new Map<string, Observer>();
  /** Successful calls summarised rather than logged one by one, by caller key id (see `answered`). */
  private summary = new Map<string, number>();
  private summarised = 0;
  private summaryProcedure = "";
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.accessLine = scalarLineLogger(logger);
    this.timer = setInterval(() => this.flush(), SUMMARY_INTERVAL_MS).unref();
  }

  /**
   * A successful call of the hot path (CheckKey over gRPC): measured like any
   * RPC, but recorded in a summary line per second (calls per caller key id)
   * instead of a line per call. Writing a line per check cost about a tenth of
   * the call (npm run bench); refused and failed calls still get their own line.
   */
  answered(procedure: string, callerKeyId: string, startedAt: number): void {
    this.duration(procedure, "OK").observe((performance.now() - startedAt) / 1000);
    this.summarised++;
    this.summaryProcedure = procedure;
    const key = this.summary.size < SUMMARY_MAX_CALLERS || this.summary.has(callerKeyId) ? callerKeyId : "other";
    this.summary.set(key, (this.summary.get(key) ?? 0) + 1);
  }

  /** Writes the summary of the calls answered since the last one (also at shutdown). */
  flush(): void {
    if (this.summarised === 0) return;
    this.logger.info({ procedure: this.summaryProcedure, code: "ok", calls: this.summarised, callers: Object.fromEntries(this.summary) }, "rpc summary");
    this.summary = new Map();
    this.summarised = 0;
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  /** An RPC ended, with `error` or without; `startedAt` is its performance.now() at arrival. */
  finished(rpc: RpcFacts, startedAt: number, error: ConnectError | undefined): void {
    const seconds = (performance.now() - startedAt) / 1000;
    const codeName = error === undefined ? "OK" : Code[error.code];
    this.duration(rpc.procedure, codeName).observe(seconds);
    const fields = {
      procedure: rpc.procedure,
      protocol: rpc.protocol,
      callerKeyId: rpc.callerKeyId || undefined,
      clientIp: rpc.clientIp,
      durationMs: Math.round(seconds * 1_000_000) / 1000,
      code: error === undefined ? "ok" : codeName,
    };
    if (error === undefined) this.accessLine.info(fields, "rpc");
    else if (error.code === Code.Internal || error.code === Code.Unavailable) this.logger.error({ ...fields, err: error.cause ?? error }, "rpc failed");
    // The reason may quote a value the caller sent (a name, a pattern): bounded.
    else this.accessLine.info({ ...fields, reason: bounded(error.rawMessage) }, "rpc");
  }

  private duration(procedure: string, code: string): Observer {
    const key = `${procedure} ${code}`;
    let observer = this.durations.get(key);
    if (!observer) this.durations.set(key, (observer = this.metrics.rpcDuration.labels({ procedure, code })));
    return observer;
  }
}
