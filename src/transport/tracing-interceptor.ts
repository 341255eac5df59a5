// One server span per RPC, installed only when tracing is on (src/telemetry.ts).
// Its attributes are the RPC's name, its Connect code and the caller's key id:
// never a header, a request field or a path, any of which may hold a key.
import { context, propagation, SpanKind, SpanStatusCode, type TextMapGetter } from "@opentelemetry/api";
import type { Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { tracer } from "../telemetry.js";
import { actorKeyIdKey } from "./context.js";
import { toConnectError } from "./errors.js";

/** Reads the W3C trace-context headers (traceparent, tracestate) from a request's Web Headers. */
const headerGetter: TextMapGetter<Headers> = {
  get: (headers, name) => headers.get(name) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/** Outermost when tracing: the span covers logging, auth, validation and the handler. */
export function tracingInterceptor(): Interceptor {
  return (next) => async (req) => {
    const parent = propagation.extract(context.active(), req.header, headerGetter);
    return tracer.startActiveSpan(
      `${req.service.typeName}/${req.method.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: { "rpc.system": "connect_rpc", "rpc.service": req.service.typeName, "rpc.method": req.method.name },
      },
      parent,
      async (span) => {
        try {
          const res = await next(req);
          span.setAttribute("rpc.connect_rpc.error_code", "ok");
          return res;
        } catch (error) {
          const connectError = toConnectError(error);
          // The code's name only: the message may quote what the caller sent.
          const code = codeToString(connectError.code);
          span.setAttribute("rpc.connect_rpc.error_code", code);
          span.setStatus({ code: SpanStatusCode.ERROR, message: code });
          throw connectError;
        } finally {
          const caller = req.contextValues.get(actorKeyIdKey);
          if (caller) span.setAttribute("keyward.caller_key_id", caller);
          span.end();
        }
      },
    );
  };
}
