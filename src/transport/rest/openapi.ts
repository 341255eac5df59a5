// An OpenAPI 3.1 description of the REST API, generated from the same
// descriptors and google.api.http options the router uses.
import { getOption, hasOption, isFieldSet, ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import {
  field as fieldRules,
  RepeatedRulesSchema,
  StringRulesSchema,
  type FieldRules,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { PUBLIC, requirementOf } from "../authorization.js";
import type { RestRoute } from "./routes.js";

type Schema = Record<string, unknown>;

const WKT: Record<string, Schema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]+)?s$", examples: ["3600s"] },
  "google.protobuf.FieldMask": { type: "string", description: "Comma-separated lowerCamel field paths" },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.Struct": { type: "object" },
};

function scalarSchema(t: ScalarType): Schema {
  switch (t) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return { type: "number" };
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64" };
    default:
      return { type: "integer", format: "int32" };
  }
}

const ref = (typeName: string): Schema => ({ $ref: `#/components/schemas/${typeName}` });

class SchemaBuilder {
  readonly schemas: Record<string, Schema> = {};

  message(m: DescMessage): Schema {
    const wkt = WKT[m.typeName];
    if (wkt) return wkt;
    if (!(m.typeName in this.schemas)) {
      this.schemas[m.typeName] = {}; // reserve first: messages may refer to themselves
      const properties = Object.fromEntries(m.fields.map((f) => [f.jsonName, this.field(f)]));
      this.schemas[m.typeName] = { type: "object", properties, additionalProperties: false };
    }
    return ref(m.typeName);
  }

  enumeration(e: DescEnum): Schema {
    if (!(e.typeName in this.schemas)) this.schemas[e.typeName] = { type: "string", enum: e.values.map((v) => v.name) };
    return ref(e.typeName);
  }

  single(f: DescField): Schema {
    if (f.fieldKind === "scalar") return scalarSchema(f.scalar);
    if (f.fieldKind === "enum") return this.enumeration(f.enum);
    if (f.fieldKind === "message") return this.message(f.message);
    if (f.fieldKind === "list") {
      if (f.listKind === "scalar") return scalarSchema(f.scalar);
      if (f.listKind === "enum") return this.enumeration(f.enum);
      return this.message(f.message);
    }
    return { type: "object" };
  }

  field(f: DescField): Schema {
    const rules = hasOption(f, fieldRules) ? getOption(f, fieldRules) : undefined;
    if (f.fieldKind === "list") return { type: "array", items: withBounds(this.single(f), itemRules(rules)), ...listBounds(rules) };
    if (f.fieldKind === "map") return { type: "object", additionalProperties: true };
    return withBounds(this.single(f), rules);
  }
}

// The protovalidate bounds that JSON Schema can say too (proto/ declares them;
// the server checks all of them, these included).
function withBounds(schema: Schema, rules: FieldRules | undefined): Schema {
  const type = rules?.type;
  if (type?.case === "string") {
    const set = (name: "maxLen" | "minLen") => isFieldSet(type.value, StringRulesSchema.field[name]);
    return { ...schema, ...(set("maxLen") && { maxLength: Number(type.value.maxLen) }), ...(set("minLen") && { minLength: Number(type.value.minLen) }) };
  }
  if (type?.case === "int32" && type.value.greaterThan.case === "gte") return { ...schema, minimum: type.value.greaterThan.value };
  return schema;
}

const itemRules = (rules: FieldRules | undefined): FieldRules | undefined =>
  rules?.type.case === "repeated" ? rules.type.value.items : undefined;

function listBounds(rules: FieldRules | undefined): Schema {
  if (rules?.type.case !== "repeated" || !isFieldSet(rules.type.value, RepeatedRulesSchema.field.maxItems)) return {};
  return { maxItems: Number(rules.type.value.maxItems) };
}

/** `/api/v1/api_keys/{api_key.id}` as OpenAPI writes it, and the variables' names. */
function openApiPath(route: RestRoute): string {
  const source = route.template.source.replace(/\{([^}=]+)(=[^}]*)?\}/g, "{$1}");
  return source;
}

/** Query parameters: the request's fields not bound by the path or the body (one level of nesting, dotted). */
function queryFields(route: RestRoute, builder: SchemaBuilder): Schema[] {
  if (route.body === "*") return [];
  const boundTop = new Set([...route.template.variables.map((v) => v.fieldPath.split(".")[0]!), route.body]);
  return route.method.input.fields
    .filter((f) => !boundTop.has(f.name))
    .map((f) => ({ name: f.jsonName, in: "query", required: false, schema: builder.field(f) }));
}

export function openApiDocument(routes: readonly RestRoute[], version: string): Schema {
  const builder = new SchemaBuilder();
  const paths: Record<string, Record<string, Schema>> = {};
  // Unique across the document, as OpenAPI requires: an RPC with additional bindings (AdminGetApiKeyUsage) has one per path.
  const operationIds = new Set<string>();
  for (const route of routes) {
    const { method } = route;
    const path = openApiPath(route);
    const parameters = [
      ...route.template.variables.map((v) => ({ name: v.fieldPath, in: "path", required: true, schema: { type: "string" } })),
      ...queryFields(route, builder),
    ];
    let requestBody: Schema | undefined;
    if (route.body === "*") requestBody = builder.message(method.input);
    else if (route.body !== "") {
      const field = method.input.fields.find((f) => f.name === route.body);
      if (field) requestBody = builder.field(field);
    }
    const responseField = route.responseBody === "" ? undefined : method.output.fields.find((f) => f.name === route.responseBody);
    let operationId = method.name;
    for (let n = 2; operationIds.has(operationId); n++) operationId = `${method.name}_${n}`;
    operationIds.add(operationId);
    const operation: Schema = {
      operationId,
      tags: [method.parent.name],
      summary: `${method.parent.typeName}.${method.name}`,
      parameters,
      responses: {
        "200": { description: "OK", content: { "application/json": { schema: responseField ? builder.field(responseField) : builder.message(method.output) } } },
        default: { description: "An error, as grpc-gateway reports them", content: { "application/json": { schema: ref("google.rpc.Status") } } },
      },
    };
    // RevokeApiKey takes no key (authorization.ts): say so rather than inherit the document's bearer.
    if (requirementOf(method) === PUBLIC) operation.security = [];
    if (requestBody) operation.requestBody = { required: true, content: { "application/json": { schema: requestBody } } };
    (paths[path] ??= {})[route.httpMethod.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Keyward",
      version,
      description: "API key management: policies, keys, permission registry and CheckKey. Every operation but RevokeApiKey takes a Keyward key as `Authorization: Bearer <key>`.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A Keyward API key (kw_...)" } },
      schemas: {
        ...builder.schemas,
        "google.rpc.Status": {
          type: "object",
          properties: { code: { type: "integer" }, message: { type: "string" }, details: { type: "array", items: { type: "object" } } },
        },
      },
    },
  };
}
