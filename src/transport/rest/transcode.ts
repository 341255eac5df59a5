// A REST request (path variables, query string, JSON body) → the RPC's
// request message in its proto3 JSON form, as grpc-gateway maps them.
import { ScalarType, type DescField, type DescMessage, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import type { RestRoute } from "./routes.js";

/** A transcoding failure: 400 with this message. */
export class TranscodeError extends Error {}

/** A field and the JSON key it is written under. */
function fieldNamed(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((f) => f.name === name || f.jsonName === name);
}

/** Message fields other than well-known types can be descended into. */
const isPlainMessage = (f: DescField): f is DescField & { fieldKind: "message" } =>
  f.fieldKind === "message" && !f.message.typeName.startsWith("google.protobuf.");

/** Resolves a dotted path (proto or JSON names) to its fields, or undefined. */
function resolvePath(message: DescMessage, dotted: string): DescField[] | undefined {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const part of dotted.split(".")) {
    const field: DescField | undefined = current && fieldNamed(current, part);
    if (!field) return undefined;
    fields.push(field);
    current = isPlainMessage(field) ? field.message : undefined;
  }
  return fields;
}

const isObject = (v: JsonValue | undefined): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);

/** The object at `fields` (all but the last), copying each level on the way so the caller's body is never modified. */
function objectAt(root: JsonObject, fields: readonly DescField[]): JsonObject {
  let node = root;
  for (const f of fields.slice(0, -1)) {
    const next = node[f.jsonName];
    if (next !== undefined && next !== null && !isObject(next)) throw new TranscodeError(`${f.jsonName} must be a JSON object`);
    const copy: JsonObject = { ...(next ?? {}) };
    node[f.jsonName] = copy;
    node = copy;
  }
  return node;
}

/** A query-string value as the JSON the field expects (proto3 JSON accepts strings for numbers, enums and WKTs). */
function queryValue(field: DescField, raw: string, name: string): JsonValue {
  const scalar = field.fieldKind === "scalar" ? field.scalar : field.fieldKind === "list" && field.listKind === "scalar" ? field.scalar : undefined;
  if (scalar === ScalarType.BOOL) {
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    throw new TranscodeError(`query parameter ${name}: expected true or false, got "${raw}"`);
  }
  // Enums by name or by number, as grpc-gateway accepts them.
  const isEnum = field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum");
  if (isEnum && /^-?\d+$/.test(raw)) return Number(raw);
  return raw;
}

export interface TranscodeInput {
  route: RestRoute;
  variables: ReadonlyMap<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; undefined when the request has none. */
  body: JsonValue | undefined;
}

/** The request message as proto3 JSON (camelCase keys), ready for fromJson. */
export function transcodeRequest({ route, variables, query, body }: TranscodeInput): JsonObject {
  const input = route.method.input;
  let json: JsonObject = {};
  const bound = new Set<string>();

  if (route.body === "*") {
    if (body !== undefined) {
      if (!isObject(body)) throw new TranscodeError("the request body must be a JSON object");
      json = { ...body };
    }
  } else if (route.body !== "") {
    const field = fieldNamed(input, route.body);
    if (!field) throw new Error(`google.api.http body "${route.body}" names no field of ${input.typeName}`);
    if (body !== undefined) {
      if (isPlainMessage(field) && !isObject(body)) throw new TranscodeError(`the request body must be a JSON object (the ${field.name})`);
      json[field.jsonName] = isObject(body) ? { ...body } : body;
    }
    bound.add(field.name);
    // PATCH without a mask updates the fields present in the body, as grpc-gateway does.
    const mask = input.fields.find((f) => f.name === "update_mask" && f.fieldKind === "message" && f.message.typeName === "google.protobuf.FieldMask");
    const maskGiven = [...query.keys()].some((k) => k === "update_mask" || k === "updateMask");
    if (mask && !maskGiven && isPlainMessage(field) && isObject(body)) {
      const paths = Object.keys(body).map((k) => fieldNamed(field.message, k)?.jsonName ?? k);
      json[mask.jsonName] = paths.join(",");
    }
  } else if (body !== undefined) {
    throw new TranscodeError(`${route.httpMethod} ${route.template.source} takes no request body`);
  }

  for (const [path, value] of variables) {
    const fields = resolvePath(input, path);
    if (!fields) throw new Error(`google.api.http path variable "${path}" names no field of ${input.typeName}`);
    objectAt(json, fields)[fields.at(-1)!.jsonName] = value;
    bound.add(fields[0]!.name);
  }

  for (const name of new Set(query.keys())) {
    if (route.body === "*") throw new TranscodeError(`query parameter ${name}: this method takes its fields in the request body`);
    const fields = resolvePath(input, name);
    const leaf = fields?.at(-1);
    if (!fields || !leaf || isPlainMessage(leaf) || leaf.fieldKind === "map") {
      throw new TranscodeError(`query parameter ${name}: ${input.typeName} has no such field`);
    }
    if (bound.has(fields[0]!.name)) throw new TranscodeError(`query parameter ${name}: the field is set by the path or body`);
    const values = query.getAll(name).map((v) => queryValue(leaf, v, name));
    if (leaf.fieldKind !== "list" && values.length > 1) throw new TranscodeError(`query parameter ${name}: given more than once`);
    objectAt(json, fields)[leaf.jsonName] = leaf.fieldKind === "list" ? values : values.at(-1)!;
  }
  return json;
}
