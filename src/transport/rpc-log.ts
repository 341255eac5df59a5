// The record of each RPC: its duration metric and one access line. Shared by
// the Connect interceptor and the HTTP/2 fast path of CheckKey, so both log
// and measure alike. Never given a message body or a header: no secret can
// reach the log from here.
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

type Observer = { observe(seconds: number): void };

export class RpcLog {
  private readonly accessLine: Logger;
  // Histogram children bound once per (procedure, code): a label lookup per call costs more than the observation.
  private readonly durations = new Map<string, Observer>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.accessLine = scalarLineLogger(logger);
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
