// Connect codes as grpc-gateway reports them over REST: the HTTP status and the
// numeric gRPC code in the JSON error body. The one table for REST errors.
import { create, createRegistry, toJson, type JsonValue } from "@bufbuild/protobuf";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";

const HTTP_STATUS: Record<Code, number> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

export const httpStatusOf = (code: Code): number => HTTP_STATUS[code] ?? 500;

/** Connect's JSON error code ("not_found") → Code, with the Connect protocol's own parser. */
export const codeFromConnectName = (name: unknown): Code => (typeof name === "string" ? codeFromString(name) : undefined) ?? Code.Unknown;

/** grpc-gateway's error body. */
export const errorBody = (code: Code, message: string, details: JsonValue[] = []): { code: number; message: string; details: JsonValue[] } => ({
  code,
  message,
  details,
});

// The error details Keyward sends, rendered as JSON; any other is passed on as its bytes.
const DETAIL_TYPES = createRegistry(ViolationsSchema);

/**
 * Connect's JSON error details (`{type, value: base64}`) as grpc-gateway renders
 * them: each a google.protobuf.Any in JSON, `{"@type": "type.googleapis.com/…", …fields}`.
 */
export function detailsFromConnect(details: unknown): JsonValue[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((d: unknown) => {
    if (typeof d !== "object" || d === null) return [];
    const { type, value } = d as { type?: unknown; value?: unknown };
    if (typeof type !== "string" || typeof value !== "string") return [];
    const typeUrl = `type.googleapis.com/${type}`;
    if (!DETAIL_TYPES.getMessage(type)) return [{ "@type": typeUrl, value }];
    return [toJson(AnySchema, create(AnySchema, { typeUrl, value: Buffer.from(value, "base64") }), { registry: DETAIL_TYPES })];
  });
}
