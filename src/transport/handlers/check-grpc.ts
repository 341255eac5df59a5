// CheckKey over gRPC (binary, HTTP/2), served straight on node:http2's stream
// API: the way internal services call it (grpc-js, grpc-go) on every request
// they receive. Connect serves every other RPC, and CheckKey to every other
// caller (Connect, gRPC-Web, JSON, compressed requests, REST); it costs about
// 350 µs of CPU per RPC here (its async-iterable pipeline, a DOMException per
// request, garbage), against a floor of about 30 µs for node:http2 itself.
//
// This path keeps what Connect's path promises, in the same order, with the
// same codes and messages (test/api/check-grpc.test.ts compares the two):
// envelope and size checks, grpc-timeout, parsing, the caller's own key and
// keyward.keys.check, the protovalidate rules, the verdict, the access line
// and the metrics. What it leaves out is what a gRPC CheckKey never needs:
// streaming, compression (a compressed request goes to Connect), JSON.
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { violationsToProto, type Validator } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";
import { createMethodSerializationLookup } from "@connectrpc/connect/protocol";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { CheckKeyRequestSchema, CheckService, type CheckKeyRequest } from "../../../gen/keyward/v1/check_pb.js";
import type { KeyChecker, Verdict } from "../../domain/check.js";
import { AUTHENTICATED, PUBLIC, requirementOf } from "../authorization.js";
import { toConnectError } from "../errors.js";
import { encodeGrpcMessage } from "../grpc-message.js";
import { callerRefusal, requiredKey } from "../interceptors.js";
import type { Metrics } from "../metrics.js";
import type { RpcFacts, RpcLog } from "../rpc-log.js";
import type { StreamHandler } from "../one-port.js";
import { checkAnswerFrame, checkRequestOf, verdictCounter } from "./check.js";
import type { UsageRollups } from "../../domain/usage-rollups.js";
import { readCheckRequest } from "./check-request-wire.js";
import { withinLengthRules } from "./length-rules.js";

const METHOD = CheckService.method.checkKey;
const PATH = `/${CheckService.typeName}/${METHOD.name}`;
const PROCEDURE = PATH.slice(1);
// What CheckKey's proto option requires, as the Connect path reads it (authorization.ts).
const REQUIRED = (() => {
  const r = requirementOf(METHOD);
  if (r === undefined || r === PUBLIC || r === AUTHENTICATED) throw new Error("CheckKey must require a Keyward permission");
  return r;
})();
const CALLER_NEEDS = [REQUIRED];
const ENVELOPE_HEADER_BYTES = 5;
const FLAG_COMPRESSED = 0b01;

export interface GrpcCheckDeps {
  checker: KeyChecker;
  metrics: Metrics;
  usage: UsageRollups;
  log: RpcLog;
  /** The same validator the Connect path's validation interceptor uses. */
  validator: Validator;
  readMaxBytes: number;
  /** The client's address, as the Connect path's context computes it. */
  clientIpOf(peer: string, forwardedFor: string | string[] | undefined): string;
}

/** One call's state, kept on its stream so that the stream's listeners are shared functions, not closures per call. */
interface Call {
  readonly stream: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  readonly startedAt: number;
  readonly rpc: RpcFacts;
  chunks: Buffer[];
  received: number;
  /** Answered (or refused): what else arrives is dropped, and a late verdict is not sent. */
  done: boolean;
  timeoutError: ConnectError | undefined;
  deadline: NodeJS.Timeout | undefined;
}

const CALL = Symbol("keyward.check-grpc.call");
type CallStream = ServerHttp2Stream & { [CALL]: Call };

/** Web Headers' reading of a node:http2 header (repeated headers joined), for the code shared with the Connect path. */
class HeaderReader {
  constructor(private readonly headers: IncomingHttpHeaders) {}
  get(name: string): string | null {
    const value = this.headers[name];
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
  }
}

/** Sends the trailers a finished unary call ends with ('wantTrailers' listener: `this` is the stream). */
function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers({ "grpc-status": "0" });
}

function ignoreStreamError(): void {
  // A client's reset: nothing to answer, and nothing to crash on.
}

export function grpcCheckKey(deps: GrpcCheckDeps): StreamHandler {
  const count = verdictCounter(deps.metrics, deps.usage);
  const withinRules = withinLengthRules(CheckKeyRequestSchema);
  // Connect's own parser for this method's input: the same size limit and the same errors.
  const parse = createMethodSerializationLookup(METHOD, undefined, undefined, {
    readMaxBytes: deps.readMaxBytes,
    writeMaxBytes: deps.readMaxBytes,
  }).getI(true).parse;

  function answer(stream: ServerHttp2Stream, frame: Buffer): void {
    if (stream.destroyed || stream.headersSent) return;
    stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
    stream.once("wantTrailers", sendOkTrailers);
    stream.end(frame);
  }

  /** Answers with an error status. */
  function fail(stream: ServerHttp2Stream, error: ConnectError): void {
    if (stream.destroyed || stream.headersSent) return;
    const status = new Headers();
    setTrailerStatus(status, error);
    const trailers: Record<string, string> = {};
    status.forEach((value, name) => {
      // Connect percent-encodes with encodeURIComponent; grpc-js reads the spec's minimal form (grpc-message.ts).
      trailers[name] = name === "grpc-message" ? encodeGrpcMessage(error.rawMessage) : value;
    });
    stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers(trailers));
    stream.end();
  }

  /** The one request message in the body, as Connect splits, checks and parses it. */
  function messageOf(body: Buffer): CheckKeyRequest {
    if (body.length === 0) throw new ConnectError("protocol error: missing input message for unary method", Code.Unimplemented);
    const message = envelopeAt(body, 0);
    const end = ENVELOPE_HEADER_BYTES + message.length;
    if (end < body.length) {
      envelopeAt(body, end);
      throw new ConnectError("protocol error: received extra input message for unary method", Code.Unimplemented);
    }
    if (body[0]! & FLAG_COMPRESSED) throw new ConnectError("received compressed envelope, but do not know how to decompress", Code.Internal);
    return readCheckRequest(message) ?? parse(message);
  }

  function envelopeAt(body: Buffer, offset: number): Buffer {
    if (body.length - offset < ENVELOPE_HEADER_BYTES) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
    const length = body.readUInt32BE(offset + 1);
    if (length > deps.readMaxBytes) {
      throw new ConnectError(`message size ${length} is larger than configured readMaxBytes ${deps.readMaxBytes}`, Code.ResourceExhausted);
    }
    const start = offset + ENVELOPE_HEADER_BYTES;
    if (body.length - start < length) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
    return body.subarray(start, start + length);
  }

  function validate(request: CheckKeyRequest): void {
    if (withinRules?.(request)) return;
    const result = deps.validator.validate(CheckKeyRequestSchema, request);
    if (result.kind === "valid") return;
    const details = [];
    if (result.violations) {
      const [value, desc] = violationsToProto(result.violations);
      details.push({ desc, value });
    }
    throw new ConnectError(result.error.message, Code.InvalidArgument, undefined, details, result.error);
  }

  /** The call is over: answered (`error` undefined) or to be refused with `error`. Only the first word counts. */
  function finish(call: Call, error: unknown): void {
    if (call.done) return;
    call.done = true;
    if (call.deadline) clearTimeout(call.deadline);
    if (error === undefined) {
      deps.log.answered(PROCEDURE, call.rpc.callerKeyId, call.startedAt);
      return;
    }
    const connectError = toConnectError(error);
    fail(call.stream, connectError);
    deps.log.finished(call.rpc, call.startedAt, connectError);
  }

  // The steps of a call. A warm check decides each without I/O, so the whole
  // call runs in one go; a step that must wait continues in a promise.
  function start(call: Call, body: Buffer): void {
    try {
      // Connect raises a bad grpc-timeout when it starts reading the body, before the envelope's own checks.
      if (call.timeoutError) throw call.timeoutError;
      const request = messageOf(body);
      const key = requiredKey(new HeaderReader(call.headers));
      // The caller's own key, judged as the Connect path's auth interceptor judges it.
      const caller = deps.checker.decide({ key, permissions: CALLER_NEEDS, method: "POST", path: PATH, clientIp: call.rpc.clientIp });
      if (caller instanceof Promise) caller.then((verdict) => authorized(call, request, verdict), (error: unknown) => finish(call, error));
      else authorized(call, request, caller);
    } catch (error) {
      finish(call, error);
    }
  }

  function authorized(call: Call, request: CheckKeyRequest, caller: Verdict): void {
    try {
      call.rpc.callerKeyId = caller.code === "VALID" ? caller.key.id : "keyId" in caller ? caller.keyId : "";
      if (caller.code !== "VALID") throw callerRefusal(caller, REQUIRED);
      validate(request);
      const now = deps.checker.now();
      const verdict = deps.checker.decide(checkRequestOf(request), now);
      if (verdict instanceof Promise) verdict.then((v) => decided(call, v, now), (error: unknown) => finish(call, error));
      else decided(call, verdict, now);
    } catch (error) {
      finish(call, error);
    }
  }

  function decided(call: Call, verdict: Verdict, now: Date): void {
    if (call.done) return;
    count(verdict, now);
    answer(call.stream, checkAnswerFrame(verdict));
    finish(call, undefined);
  }

  function onData(this: CallStream, chunk: Buffer): void {
    const call = this[CALL];
    if (call.done) return;
    call.received += chunk.length;
    call.chunks.push(chunk);
    const declared = call.received >= ENVELOPE_HEADER_BYTES ? (call.chunks.length === 1 ? chunk : Buffer.concat(call.chunks)).readUInt32BE(1) : 0;
    // As Connect does: an envelope declaring more than the limit is refused as soon as its header is in. Past one
    // whole message and a second header, the request is wrong whatever follows (messageOf says how).
    if (declared > deps.readMaxBytes || call.received > 2 * ENVELOPE_HEADER_BYTES + declared) {
      const body = Buffer.concat(call.chunks);
      // What else arrives is read and dropped, never held (the request timeout bounds how long).
      call.chunks = [];
      try {
        messageOf(body);
      } catch (error) {
        finish(call, error);
      }
    }
  }

  function onEnd(this: CallStream): void {
    const call = this[CALL];
    if (call.done) return;
    start(call, call.chunks.length === 1 ? call.chunks[0]! : Buffer.concat(call.chunks));
  }

  return {
    takes(headers) {
      if (headers[":path"] !== PATH || headers[":method"] !== "POST") return false;
      const contentType = headers["content-type"];
      if (contentType !== "application/grpc" && contentType !== "application/grpc+proto") return false;
      const encoding = headers["grpc-encoding"];
      return encoding === undefined || encoding === "identity";
    },

    serve(stream, headers) {
      const call: Call = {
        stream,
        headers,
        startedAt: performance.now(),
        rpc: {
          procedure: PROCEDURE,
          protocol: headers["content-type"]!,
          callerKeyId: "",
          clientIp: deps.clientIpOf(stream.session?.socket.remoteAddress ?? "", headers["x-forwarded-for"]),
        },
        chunks: [],
        received: 0,
        done: false,
        timeoutError: undefined,
        deadline: undefined,
      };
      (stream as CallStream)[CALL] = call;
      if (headers["grpc-timeout"] !== undefined) {
        const timeout = parseTimeout(new HeaderReader(headers).get("grpc-timeout"), Number.MAX_SAFE_INTEGER);
        call.timeoutError = timeout.error;
        if (timeout.timeoutMs !== undefined) {
          call.deadline = setTimeout(() => finish(call, new ConnectError("the operation timed out", Code.DeadlineExceeded)), timeout.timeoutMs);
        }
      }
      stream.on("error", ignoreStreamError);
      stream.on("data", onData);
      stream.on("end", onEnd);
    },
  };
}
