// Connect's JSON codecs (Connect JSON, gRPC+JSON, gRPC-Web+JSON) made strict,
// and made to write empty fields as REST does.
// connect-es ignores unknown JSON fields by default (getJsonOptions in
// @connectrpc/connect 2.1.2 sets ignoreUnknownFields: true), so a misspelt
// `allowedSubnet` would be dropped and the key created without its limit. Its
// codec decodes the body's text with `jsonOptions.textDecoder`, then runs
// protobuf-es; that decoder is the one hook that sees a request's JSON before
// decoding and before the interceptors, so each method gets one that checks
// the JSON against the method's input (checkRequestJson) and refuses with the
// field named. protobuf-es then decodes with ignoreUnknownFields: false as well.
import type { DescMessage, DescMethod, DescService, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type MethodImpl } from "@connectrpc/connect";
import type { UniversalHandlerOptions } from "@connectrpc/connect/protocol";
import { checkRequestJson } from "./json-input.js";
import { toConnectError } from "./errors.js";

function checkingDecoder(input: DescMessage): { decode(bytes?: Uint8Array): string } {
  const utf8 = new TextDecoder();
  return {
    decode(bytes) {
      const text = utf8.decode(bytes);
      let json: JsonValue;
      try {
        json = JSON.parse(text) as JsonValue;
      } catch {
        return text; // not JSON at all: protobuf-es says so
      }
      try {
        checkRequestJson(input, json);
      } catch (error) {
        throw toConnectError(error);
      }
      return text;
    },
  };
}

type Options = Partial<UniversalHandlerOptions> | undefined;

// Answers too: every field without presence (strings, numbers, bools, enums,
// lists, maps) is written with its zero value rather than left out, as REST
// answers (grpc-gateway's EmitUnpopulated), so a script reads the same JSON over
// Connect and REST (README, "Empty fields in JSON"): the REST layer sends this
// very JSON on (src/transport/rest/handler.ts). These per-method options
// replace, not merge with, the adapter's, hence here.
const strictOptions = (method: DescMethod, options: Options) => ({
  ...options,
  jsonOptions: { ...options?.jsonOptions, ignoreUnknownFields: false, textDecoder: checkingDecoder(method.input), alwaysEmitImplicit: true },
});

/**
 * A router that registers every method on its own with strict JSON options
 * (the router's other options, interceptors included, still apply).
 */
export function strictJsonRouter(router: ConnectRouter): ConnectRouter {
  const strict: ConnectRouter = {
    handlers: router.handlers,
    service(service: DescService, implementation: object, options?: Options) {
      for (const method of service.methods) {
        const fn = (implementation as Record<string, unknown>)[method.localName];
        const unimplemented = () => {
          throw new ConnectError(`${service.typeName}.${method.name} is not implemented`, Code.Unimplemented);
        };
        const impl = (typeof fn === "function" ? fn.bind(implementation) : unimplemented) as MethodImpl<DescMethod>;
        router.rpc<DescMethod>(method, impl, strictOptions(method, options));
      }
      return strict;
    },
    rpc(method: DescMethod, impl: MethodImpl<DescMethod>, options?: Options) {
      router.rpc<DescMethod>(method, impl, strictOptions(method, options));
      return strict;
    },
  } as ConnectRouter;
  return strict;
}
