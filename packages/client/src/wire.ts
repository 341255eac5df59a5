// The few Keyward messages this library sends and reads, encoded by hand with
// @bufbuild/protobuf's wire helpers so the package needs none of Keyward's
// generated code (field numbers from proto/keyward/v1/check.proto and permissions.proto).
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export interface CheckKeyRequest {
  key: string;
  permissions: readonly string[];
  method: string;
  path: string;
  clientIp: string;
}

/** CheckCode's names, as Keyward's enum has them (without the CHECK_CODE_ prefix). */
export type CheckCode =
  | "UNSPECIFIED"
  | "VALID"
  | "MALFORMED"
  | "NOT_FOUND"
  | "EXPIRED"
  | "RETIRED"
  | "SUBNET_DENIED"
  | "CONSTRAINT_DENIED"
  | "PERMISSION_DENIED"
  | "RATE_LIMITED"
  | "USAGE_EXCEEDED";
/** By number, as check.proto numbers them. */
const CODES: ReadonlyMap<number, CheckCode> = new Map([
  [0, "UNSPECIFIED"],
  [1, "VALID"],
  [2, "MALFORMED"],
  [3, "NOT_FOUND"],
  [4, "EXPIRED"],
  [5, "RETIRED"],
  [6, "SUBNET_DENIED"],
  [7, "CONSTRAINT_DENIED"],
  [8, "PERMISSION_DENIED"],
  [20, "RATE_LIMITED"],
  [21, "USAGE_EXCEEDED"],
]);

export interface CheckKeyResponse {
  valid: boolean;
  code: CheckCode;
  apiKeyId: string;
  apiKeyName: string;
  policyId: string;
  policyName: string;
  permissions: string[];
  /** Milliseconds since the epoch; 0 when unset. */
  expireTimeMs: number;
  service: string;
  /** For PERMISSION_DENIED: the first requested permission the key lacks (for this service's logs, not its callers). */
  missingPermission: string;
  /**
   * Set for a key with usage limits only (rate limits or credits): its credits
   * left, else the checks left under its tightest rate limit. A verdict that
   * carries it must not be reused: every request has to count.
   */
  remaining?: number;
  /** When `remaining` next grows, ms since the epoch; absent when unset. */
  resetTimeMs?: number;
}

export function encodeCheckKeyRequest(r: CheckKeyRequest): Uint8Array {
  const w = new BinaryWriter();
  if (r.key) w.tag(1, WireType.LengthDelimited).string(r.key);
  for (const p of r.permissions) w.tag(2, WireType.LengthDelimited).string(p);
  if (r.method) w.tag(3, WireType.LengthDelimited).string(r.method);
  if (r.path) w.tag(4, WireType.LengthDelimited).string(r.path);
  if (r.clientIp) w.tag(5, WireType.LengthDelimited).string(r.clientIp);
  return w.finish();
}

function decodeTimestampMs(bytes: Uint8Array): number {
  const r = new BinaryReader(bytes);
  let seconds = 0;
  let nanos = 0;
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1 && wt === WireType.Varint) seconds = Number(r.int64());
    else if (no === 2 && wt === WireType.Varint) nanos = r.int32();
    else r.skip(wt);
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

export function decodeCheckKeyResponse(bytes: Uint8Array): CheckKeyResponse {
  const out: CheckKeyResponse = { valid: false, code: "UNSPECIFIED", apiKeyId: "", apiKeyName: "", policyId: "", policyName: "", permissions: [], expireTimeMs: 0, service: "", missingPermission: "" };
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    switch (wt === WireType.LengthDelimited || wt === WireType.Varint ? no : 0) {
      case 1:
        out.valid = r.bool();
        break;
      case 2:
        out.code = CODES.get(r.int32()) ?? "UNSPECIFIED";
        break;
      case 3:
        out.apiKeyId = r.string();
        break;
      case 4:
        out.apiKeyName = r.string();
        break;
      case 5:
        out.policyId = r.string();
        break;
      case 6:
        out.policyName = r.string();
        break;
      case 7:
        out.permissions.push(r.string());
        break;
      case 8:
        out.expireTimeMs = decodeTimestampMs(r.bytes());
        break;
      case 9:
        out.service = r.string();
        break;
      case 10:
        out.missingPermission = r.string();
        break;
      case 20:
        out.remaining = Number(r.int64());
        break;
      case 21:
        out.resetTimeMs = decodeTimestampMs(r.bytes());
        break;
      default:
        r.skip(wt);
    }
  }
  // A verdict is valid only when both say so: fail closed on anything odd.
  out.valid = out.valid && out.code === "VALID";
  return out;
}

export interface PermissionDefinition {
  name: string;
  description: string;
}

export function encodeRegisterPermissionsRequest(service: string, permissions: readonly PermissionDefinition[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).string(service);
  for (const p of permissions) {
    w.tag(2, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(p.name);
    if (p.description) w.tag(2, WireType.LengthDelimited).string(p.description);
    w.join();
  }
  return w.finish();
}
