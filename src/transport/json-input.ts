// The one check of a JSON request (Connect JSON, gRPC+JSON, gRPC-Web+JSON and
// REST) before protobuf-es decodes it. protobuf-es's own errors name a type
// ("cannot decode message google.protobuf.Timestamp from JSON: invalid RFC 3339
// string"), not the field at fault, and Connect ignores unknown fields by
// default; here every problem is INVALID_ARGUMENT naming the field (proto name,
// dotted path) and showing the form it expects. protobuf-es still decodes the
// message afterwards, strictly, as a backstop for anything not caught here.
import { ScalarType, type DescEnum, type DescField, type DescMessage, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "../domain/errors.js";

const isObject = (v: JsonValue): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);

/** What a JSON value is, for "got …" (never the value itself: it could be anything, of any length). */
function kindOf(v: JsonValue): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return typeof v === "number" ? "a number" : typeof v === "boolean" ? "a boolean" : "a string";
}

/** A client-chosen name, quoted and cut short, fit for an error message and a log line. */
const quoted = (name: string): string => JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);

const join = (path: string, name: string) => (path === "" ? name : `${path}.${name}`);

const fail = (path: string, expected: string, got: JsonValue): never => {
  throw new InvalidArgumentError(path, `expected ${expected}, got ${kindOf(got)}`);
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const DURATION = /^-?\d{1,12}(\.\d{1,9})?s$/;
const MASK_PATH = /^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*$/;
const INTEGER = /^-?\d+$/;

const TIMESTAMP_FORM = "an RFC 3339 timestamp such as 2027-01-01T00:00:00Z";
const DURATION_FORM = 'a duration such as "3600s" (seconds, with an "s")';
const MASK_FORM = 'a field mask such as "name,expireTime" (comma-separated lowerCamelCase field names)';

function checkTimestamp(v: JsonValue, path: string): void {
  if (typeof v !== "string") return fail(path, TIMESTAMP_FORM, v);
  if (!RFC3339.test(v) || Number.isNaN(Date.parse(v))) throw new InvalidArgumentError(path, `expected ${TIMESTAMP_FORM}`);
}

function checkDuration(v: JsonValue, path: string): void {
  if (typeof v !== "string") return fail(path, DURATION_FORM, v);
  if (!DURATION.test(v)) throw new InvalidArgumentError(path, `expected ${DURATION_FORM}`);
}

function checkFieldMask(v: JsonValue, path: string): void {
  if (typeof v !== "string") return fail(path, MASK_FORM, v);
  if (v !== "" && !v.split(",").every((p) => MASK_PATH.test(p))) throw new InvalidArgumentError(path, `expected ${MASK_FORM}`);
}

function checkEnum(e: DescEnum, v: JsonValue, path: string): void {
  if (typeof v === "number" && Number.isInteger(v)) return;
  if (typeof v === "string" && e.values.some((value) => value.name === v)) return;
  throw new InvalidArgumentError(path, `expected one of ${e.values.map((value) => value.name).join(", ")}`);
}

function checkScalar(scalar: ScalarType, v: JsonValue, path: string): void {
  switch (scalar) {
    case ScalarType.STRING:
      if (typeof v !== "string") fail(path, "a string", v);
      return;
    case ScalarType.BOOL:
      if (typeof v !== "boolean") fail(path, "true or false", v);
      return;
    case ScalarType.BYTES:
      if (typeof v !== "string") fail(path, "base64-encoded bytes (a string)", v);
      return;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      if (typeof v === "number" || (typeof v === "string" && (!Number.isNaN(Number(v)) || v === "NaN"))) return;
      fail(path, "a number", v);
      return;
    default:
      // Every integer type: a JSON number or a decimal string (64-bit ones are sent as strings).
      if ((typeof v === "number" && Number.isInteger(v)) || (typeof v === "string" && INTEGER.test(v))) return;
      throw new InvalidArgumentError(path, `expected an integer such as 10, got ${kindOf(v)}`);
  }
}

/** A list item or map value: its element type (scalar, enum or message), and never null, which has no meaning there. */
function checkElement(field: DescField & { fieldKind: "list" | "map" }, v: JsonValue, at: string): void {
  if (v === null) throw new InvalidArgumentError(at, "must not be null");
  if (field.message) checkMessage(field.message, v, at);
  else if (field.enum) checkEnum(field.enum, v, at);
  else checkScalar(field.scalar, v, at);
}

function checkField(field: DescField, v: JsonValue, path: string): void {
  if (v === null) return; // null is the field's default in proto3 JSON
  switch (field.fieldKind) {
    case "list":
      if (!Array.isArray(v)) return fail(path, "an array", v);
      v.forEach((item, i) => checkElement(field, item, `${path}[${i}]`));
      return;
    case "map":
      if (!isObject(v)) return fail(path, "an object", v);
      for (const [key, value] of Object.entries(v)) checkElement(field, value, `${path}[${quoted(key)}]`);
      return;
    case "enum":
      return checkEnum(field.enum, v, path);
    case "scalar":
      return checkScalar(field.scalar, v, path);
    case "message":
      return checkMessage(field.message, v, path);
  }
}

function checkMessage(desc: DescMessage, v: JsonValue, path: string): void {
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return checkTimestamp(v, path);
    case "google.protobuf.Duration":
      return checkDuration(v, path);
    case "google.protobuf.FieldMask":
      return checkFieldMask(v, path);
  }
  // Any other well-known type has its own JSON form: protobuf-es checks it.
  if (desc.typeName.startsWith("google.protobuf.")) return;
  if (!isObject(v)) return fail(path || "request", "a JSON object", v);
  const seen = new Map<DescField, string>();
  const oneofs = new Map<string, string>();
  for (const [key, value] of Object.entries(v)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field) {
      const name = key.length > 64 ? `${key.slice(0, 64)}…` : key;
      throw new InvalidArgumentError(join(path, name), `unknown field; ${desc.name} has ${desc.fields.map((f) => f.name).join(", ")}`);
    }
    const at = join(path, field.name);
    const earlier = seen.get(field);
    if (earlier !== undefined) throw new InvalidArgumentError(at, `set twice (as ${quoted(earlier)} and ${quoted(key)})`);
    seen.set(field, key);
    if (field.oneof && value !== null) {
      const other = oneofs.get(field.oneof.name);
      if (other !== undefined) throw new InvalidArgumentError(join(path, field.oneof.name), `only one of ${field.oneof.fields.map((f) => f.name).join(", ")} may be set (got ${other} and ${field.name})`);
      oneofs.set(field.oneof.name, field.name);
    }
    checkField(field, value, at);
  }
}

/**
 * Throws InvalidArgumentError for the first problem in `json` as a `desc`
 * request: an unknown field, a wrongly typed value, a malformed timestamp,
 * duration or field mask, or an enum name that does not exist.
 */
export function checkRequestJson(desc: DescMessage, json: JsonValue): void {
  checkMessage(desc, json, "");
}
