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
import { KeywardPermission } from "../../domain/keyward-permissions.js";
import { toConnectError } from "../errors.js";
import { encodeGrpcMessage } from "../grpc-message.js";
import { callerRefusal, presentedKey } from "../interceptors.js";
import type { Metrics } from "../metrics.js";
import type { RpcFacts, RpcLog } from "../rpc-log.js";
import type { StreamHandler } from "../one-port.js";
import { checkAnswerFrame, checkRequestOf, verdictCounters } from "./check.js";

const METHOD = CheckService.method.checkKey;
const PATH = `/${CheckService.typeName}/${METHOD.name}`;
const PROCEDURE = PATH.slice(1);
const CALLER_NEEDS = [KeywardPermission.keysCheck];
const ENVELOPE_HEADER_BYTES = 5;
const FLAG_COMPRESSED = 0b01;

export interface GrpcCheckDeps {
  checker: KeyChecker;
  metrics: Metrics;
  log: RpcLog;
  /** The same validator the Connect path's validation interceptor uses. */
  validator: Validator;
  readMaxBytes: number;
  /** The client's address, as the Connect path's context computes it. */
  clientIpOf(peer: string, forwardedFor: string | string[] | undefined): string;
}

/** Web Headers' reading of a node:http2 header (repeated headers joined), for the code shared with the Connect path. */
function headerReader(headers: IncomingHttpHeaders): { get(name: string): string | null } {
  return {
    get(name) {
      const value = headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
  };
}

/** Sends the trailers a finished unary call ends with ('wantTrailers' listener: `this` is the stream). */
function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers({ "grpc-status": "0" });
}

export function grpcCheckKey(deps: GrpcCheckDeps): StreamHandler {
  const counted = verdictCounters(deps.metrics);
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
    return parse(message);
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
    const result = deps.validator.validate(CheckKeyRequestSchema, request);
    if (result.kind === "valid") return;
    const details = [];
    if (result.violations) {
      const [value, desc] = violationsToProto(result.violations);
      details.push({ desc, value });
    }
    throw new ConnectError(result.error.message, Code.InvalidArgument, undefined, details, result.error);
  }

  async function serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer, rpc: RpcFacts, timeoutError: ConnectError | undefined): Promise<Verdict> {
    // Connect raises a bad grpc-timeout when it starts reading the body, before the envelope's own checks.
    if (timeoutError) throw timeoutError;
    const request = messageOf(body);
    const key = presentedKey(headerReader(headers));
    if (key === undefined) throw new ConnectError("missing API key: send it as 'Authorization: Bearer <key>'", Code.Unauthenticated);
    // The caller's own key, judged as the Connect path's auth interceptor judges it.
    const caller = await deps.checker.check({ key, permissions: CALLER_NEEDS, method: "POST", path: PATH, clientIp: rpc.clientIp });
    rpc.callerKeyId = caller.code === "VALID" ? caller.key.id : "keyId" in caller ? caller.keyId : "";
    if (caller.code !== "VALID") throw callerRefusal(caller, KeywardPermission.keysCheck);
    validate(request);
    const verdict = await deps.checker.check(checkRequestOf(request));
    counted[verdict.code].inc();
    answer(stream, checkAnswerFrame(verdict));
    return verdict;
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
      const startedAt = performance.now();
      const rpc: RpcFacts = {
        procedure: PROCEDURE,
        protocol: headers["content-type"]!,
        callerKeyId: "",
        clientIp: deps.clientIpOf(stream.session?.socket.remoteAddress ?? "", headers["x-forwarded-for"]),
      };
      const finish = (error: unknown) => {
        const connectError = error === undefined ? undefined : toConnectError(error);
        if (connectError) fail(stream, connectError);
        deps.log.finished(rpc, startedAt, connectError);
      };
      stream.on("error", () => {
        // A client's reset: nothing to answer, and nothing to crash on.
      });
      let deadline: NodeJS.Timeout | undefined;
      const timeout = parseTimeout(headerReader(headers).get("grpc-timeout"), Number.MAX_SAFE_INTEGER);
      if (timeout.timeoutMs !== undefined) {
        deadline = setTimeout(() => finish(new ConnectError("the operation timed out", Code.DeadlineExceeded)), timeout.timeoutMs);
      }
      // The body: one small DATA frame for a check; more are gathered, up to the size limit.
      let chunks: Buffer[] = [];
      let received = 0;
      let refused = false;
      stream.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (refused) return;
        chunks.push(chunk);
        const declared = received >= ENVELOPE_HEADER_BYTES ? (chunks.length === 1 ? chunk : Buffer.concat(chunks)).readUInt32BE(1) : 0;
        // As Connect does: an envelope declaring more than the limit is refused as soon as its header is in. Past one
        // whole message and a second header, the request is wrong whatever follows (messageOf says how).
        if (declared > deps.readMaxBytes || received > 2 * ENVELOPE_HEADER_BYTES + declared) {
          refused = true;
          if (deadline) clearTimeout(deadline);
          try {
            messageOf(Buffer.concat(chunks));
          } catch (error) {
            finish(error);
          }
          // What else arrives is read and dropped, never held (the request timeout bounds how long).
          chunks = [];
        }
      });
      stream.on("end", () => {
        if (refused || stream.headersSent) return;
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        serve(stream, headers, body, rpc, timeout.error).then(
          () => {
            if (deadline) clearTimeout(deadline);
            finish(undefined);
          },
          (error: unknown) => {
            if (deadline) clearTimeout(deadline);
            finish(error);
          },
        );
      });
    },
  };
}
