// REST request → RPC request JSON (src/transport/rest/transcode.ts), on routes
// found in the real route table, checked against fromJson as the server does.
import { fromJson, toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AdminListApiKeysRequestSchema,
  AdminUpdateApiKeyRequestSchema,
  ApiKeyService,
  ApiKeyState,
} from "../../gen/keyward/v1/api_keys_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_pb.js";
import { CheckService } from "../../gen/keyward/v1/check_pb.js";
import { PermissionService } from "../../gen/keyward/v1/permissions_pb.js";
import { PolicyService } from "../../gen/keyward/v1/policies_pb.js";
import { restRoutes, routeFinder, type RestRoute } from "../../src/transport/rest/routes.js";
import { TranscodeError, transcodeRequest } from "../../src/transport/rest/transcode.js";
import { unicodeString } from "../support/arbitraries.js";

const findRoute = routeFinder(restRoutes([ApiKeyService, PolicyService, PermissionService, CheckService, AuditService]));

function routeFor(method: string, path: string): { route: RestRoute; variables: Map<string, string> } {
  const found = findRoute(method, path);
  if (!found.found) throw new Error(`no route for ${method} ${path}`);
  return found;
}

/** Transcodes a request as the REST handler does (query without the leading "?"). */
function transcode(method: string, path: string, query: string, body: JsonValue | undefined): { route: RestRoute; json: JsonObject } {
  const { route, variables } = routeFor(method, path);
  // A deep copy, so the case's own body is never shared with the result.
  const copy = body === undefined ? undefined : (structuredClone(body) as JsonValue);
  return { route, json: transcodeRequest({ route, variables, query: new URLSearchParams(query), body: copy }) };
}

/** What transcode throws: it must be a TranscodeError. */
function transcodeError(method: string, path: string, query: string, body: JsonValue | undefined): TranscodeError {
  let caught: unknown;
  try {
    transcode(method, path, query, body);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TranscodeError);
  return caught as TranscodeError;
}

/** fromJson as the server calls it, then back to canonical proto3 JSON to compare meaning. */
function accepted(route: RestRoute, json: JsonObject): JsonValue {
  return toJson(route.method.input, fromJson(route.method.input, json));
}

describe("transcodeRequest: valid requests", () => {
  // [name, method, path, query, body, transcoded JSON, canonical JSON after fromJson/toJson]
  it.each<[string, string, string, string, JsonValue | undefined, JsonObject, JsonValue]>([
    [
      'body "*" is the whole request',
      "POST",
      "/api/v1/api_keys",
      "",
      { name: "ci", policyId: "p1", expireTime: "2030-01-01T00:00:00Z", allowedSubnets: ["10.0.0.0/8"] },
      { name: "ci", policyId: "p1", expireTime: "2030-01-01T00:00:00Z", allowedSubnets: ["10.0.0.0/8"] },
      { name: "ci", policyId: "p1", expireTime: "2030-01-01T00:00:00Z", allowedSubnets: ["10.0.0.0/8"] },
    ],
    [
      'body "*" with proto (snake_case) names',
      "POST",
      "/api/v1/api_keys",
      "",
      { name: "ci", policy_id: "p1", constraints: [{ type: "CONSTRAINT_TYPE_VERB", value: "GET" }] },
      { name: "ci", policy_id: "p1", constraints: [{ type: "CONSTRAINT_TYPE_VERB", value: "GET" }] },
      { name: "ci", policyId: "p1", constraints: [{ type: "CONSTRAINT_TYPE_VERB", value: "GET" }] },
    ],
    ['body "*" without a body', "POST", "/api/v1/api_keys", "", undefined, {}, {}],
    ['body "*" with an empty object', "POST", "/api/v1/api_keys/policies", "", {}, {}, {}],
    [
      'body "*" plus a path variable',
      "POST",
      "/api/v1/api_keys/k1:rotate",
      "",
      { overlap: "60s" },
      { overlap: "60s", id: "k1" },
      { id: "k1", overlap: "60s" },
    ],
    ["the path variable overrides the body", "POST", "/api/v1/api_keys/k1:rotate", "", { id: "other" }, { id: "k1" }, { id: "k1" }],
    ['body "*" without a body keeps the path variable', "POST", "/api/v1/api_keys/k1:retire", "", undefined, { id: "k1" }, { id: "k1" }],
    [
      "CheckKey",
      "POST",
      "/api/v1/api_keys:check",
      "",
      { key: "kw_x", permissions: ["billing.invoices.read"], method: "GET", path: "/x", clientIp: "10.0.0.1" },
      { key: "kw_x", permissions: ["billing.invoices.read"], method: "GET", path: "/x", clientIp: "10.0.0.1" },
      { key: "kw_x", permissions: ["billing.invoices.read"], method: "GET", path: "/x", clientIp: "10.0.0.1" },
    ],
    [
      "PUT sets the service from the path",
      "PUT",
      "/api/v1/services/billing/permissions",
      "",
      { permissions: [{ name: "billing.invoices.read", description: "Read invoices" }] },
      { permissions: [{ name: "billing.invoices.read", description: "Read invoices" }], service: "billing" },
      { service: "billing", permissions: [{ name: "billing.invoices.read", description: "Read invoices" }] },
    ],
    [
      "PUT: the path's service overrides the body's",
      "PUT",
      "/api/v1/services/billing/permissions",
      "",
      { service: "shipping", permissions: [] },
      { service: "billing", permissions: [] },
      { service: "billing" },
    ],
    ["a decoded path variable", "PUT", "/api/v1/services/bill%20ing/permissions", "", {}, { service: "bill ing" }, { service: "bill ing" }],

    [
      "body field: the mask is inferred from the body",
      "PATCH",
      "/api/v1/api_keys/k1",
      "",
      { name: "x" },
      { apiKey: { name: "x", id: "k1" }, updateMask: "name" },
      { apiKey: { id: "k1", name: "x" }, updateMask: "name" },
    ],
    [
      "body field: snake_case keys give a lowerCamel mask",
      "PATCH",
      "/api/v1/api_keys/k1",
      "",
      { policy_id: "p" },
      { apiKey: { policy_id: "p", id: "k1" }, updateMask: "policyId" },
      { apiKey: { id: "k1", policyId: "p" }, updateMask: "policyId" },
    ],
    [
      "body field: several keys, mixed naming",
      "PATCH",
      "/api/v1/api_keys/k1",
      "",
      { name: "x", expire_time: "2030-01-01T00:00:00Z", allowedSubnets: ["10.0.0.0/8"] },
      {
        apiKey: { name: "x", expire_time: "2030-01-01T00:00:00Z", allowedSubnets: ["10.0.0.0/8"], id: "k1" },
        updateMask: "name,expireTime,allowedSubnets",
      },
      {
        apiKey: { id: "k1", name: "x", expireTime: "2030-01-01T00:00:00Z", allowedSubnets: ["10.0.0.0/8"] },
        updateMask: "name,expireTime,allowedSubnets",
      },
    ],
    [
      "body field: an explicit updateMask is not inferred",
      "PATCH",
      "/api/v1/api_keys/k1",
      "updateMask=name",
      { name: "x", policyId: "p" },
      { apiKey: { name: "x", policyId: "p", id: "k1" }, updateMask: "name" },
      { apiKey: { id: "k1", name: "x", policyId: "p" }, updateMask: "name" },
    ],
    [
      "body field: an explicit update_mask is not inferred",
      "PATCH",
      "/api/v1/api_keys/k1",
      "update_mask=policyId,name",
      { name: "x", policyId: "p" },
      { apiKey: { name: "x", policyId: "p", id: "k1" }, updateMask: "policyId,name" },
      { apiKey: { id: "k1", name: "x", policyId: "p" }, updateMask: "policyId,name" },
    ],
    ["body field without a body: no mask", "PATCH", "/api/v1/api_keys/k1", "", undefined, { apiKey: { id: "k1" } }, { apiKey: { id: "k1" } }],
    [
      "body field on policies",
      "PATCH",
      "/api/v1/api_keys/policies/p1",
      "",
      { permissions: ["billing.*"], description: "d" },
      { policy: { permissions: ["billing.*"], description: "d", id: "p1" }, updateMask: "permissions,description" },
      { policy: { id: "p1", description: "d", permissions: ["billing.*"] }, updateMask: "permissions,description" },
    ],

    ["GET with a path variable", "GET", "/api/v1/api_keys/k1", "", undefined, { id: "k1" }, { id: "k1" }],
    ["GET with an encoded path variable", "GET", "/api/v1/api_keys/k%2F1", "", undefined, { id: "k/1" }, { id: "k/1" }],
    ["DELETE a policy", "DELETE", "/api/v1/api_keys/policies/p1", "", undefined, { id: "p1" }, { id: "p1" }],
    ["GET with no fields", "GET", "/api/v1/api_keys/permissions", "", undefined, {}, {}],
    ["pageSize (a string proto JSON accepts)", "GET", "/api/v1/api_keys", "pageSize=2", undefined, { pageSize: "2" }, { pageSize: 2 }],
    ["page_size (proto name)", "GET", "/api/v1/api_keys", "page_size=2", undefined, { pageSize: "2" }, { pageSize: 2 }],
    ["policyId", "GET", "/api/v1/api_keys", "policyId=p1", undefined, { policyId: "p1" }, { policyId: "p1" }],
    ["policy_id", "GET", "/api/v1/api_keys", "policy_id=p%201", undefined, { policyId: "p 1" }, { policyId: "p 1" }],
    [
      "state by enum name",
      "GET",
      "/api/v1/api_keys",
      "state=API_KEY_STATE_RETIRED",
      undefined,
      { state: "API_KEY_STATE_RETIRED" },
      { state: "API_KEY_STATE_RETIRED" },
    ],
    ["expiringWithin as a Duration", "GET", "/api/v1/api_keys", "expiringWithin=3600s", undefined, { expiringWithin: "3600s" }, { expiringWithin: "3600s" }],
    ["expiring_within as a Duration", "GET", "/api/v1/api_keys", "expiring_within=1.5s", undefined, { expiringWithin: "1.5s" }, { expiringWithin: "1.500s" }],
    [
      "several query parameters",
      "GET",
      "/api/v1/api_keys",
      "pageSize=10&pageToken=t1&policyId=p&state=API_KEY_STATE_ACTIVE&expiringWithin=60s",
      undefined,
      { pageSize: "10", pageToken: "t1", policyId: "p", state: "API_KEY_STATE_ACTIVE", expiringWithin: "60s" },
      { pageSize: 10, pageToken: "t1", policyId: "p", expiringWithin: "60s", state: "API_KEY_STATE_ACTIVE" },
    ],
    [
      "audit events with Timestamps",
      "GET",
      "/api/v1/audit_events",
      "actorKeyId=k1&target=api_keys%2Fk2&start_time=2030-01-01T00:00:00Z&endTime=2030-01-02T00:00:00Z",
      undefined,
      { actorKeyId: "k1", target: "api_keys/k2", startTime: "2030-01-01T00:00:00Z", endTime: "2030-01-02T00:00:00Z" },
      { actorKeyId: "k1", target: "api_keys/k2", startTime: "2030-01-01T00:00:00Z", endTime: "2030-01-02T00:00:00Z" },
    ],
  ])("%s: %s %s?%s", (_name, method, path, query, body, expected, canonical) => {
    const { route, json } = transcode(method, path, query, body);
    expect(json).toEqual(expected);
    expect(accepted(route, json)).toEqual(canonical);
  });

  it("the PATCH request decodes to the key, its id from the path, and the mask", () => {
    const { json } = transcode("PATCH", "/api/v1/api_keys/k1", "", { name: "x", policy_id: "p" });
    const request = fromJson(AdminUpdateApiKeyRequestSchema, json);
    expect(request.apiKey?.id).toBe("k1");
    expect(request.apiKey?.name).toBe("x");
    expect(request.apiKey?.policyId).toBe("p");
    expect(request.updateMask?.paths).toEqual(["name", "policy_id"]);
  });

  it("the list request decodes query strings to typed values", () => {
    const { json } = transcode("GET", "/api/v1/api_keys", "page_size=2&state=API_KEY_STATE_ACTIVE&expiringWithin=3600s", undefined);
    const request = fromJson(AdminListApiKeysRequestSchema, json);
    expect(request.pageSize).toBe(2);
    expect(request.state).toBe(ApiKeyState.ACTIVE);
    expect(request.expiringWithin?.seconds).toBe(3600n);
  });

  it("repeated query parameters fill a repeated field", () => {
    // No real route takes a repeated field from the query string (every one is on a
    // body "*" route), so this is CheckKey's request on a body-less route.
    const { route, variables } = routeFor("POST", "/api/v1/api_keys:check");
    const bodiless: RestRoute = { ...route, httpMethod: "GET", body: "" };
    const json = transcodeRequest({
      route: bodiless,
      variables,
      query: new URLSearchParams("permissions=a.b.c&key=kw_x&permissions=d.e.f"),
      body: undefined,
    });
    expect(json).toEqual({ permissions: ["a.b.c", "d.e.f"], key: "kw_x" });
    expect(accepted(bodiless, json)).toEqual({ key: "kw_x", permissions: ["a.b.c", "d.e.f"] });
    // One value is still a list.
    const one = transcodeRequest({ route: bodiless, variables, query: new URLSearchParams("permissions=a.b.c"), body: undefined });
    expect(one).toEqual({ permissions: ["a.b.c"] });
  });

  it("dotted query parameters reach nested fields; a message field itself is refused", () => {
    // No real GET route has a (non-well-known) message field, so this is the
    // PATCH route's request with no body binding.
    // No path variables either: a path variable inside api_key binds the whole field.
    const { route } = routeFor("PATCH", "/api/v1/api_keys/k1");
    const bodiless: RestRoute = { ...route, httpMethod: "GET", body: "" };
    const json = transcodeRequest({
      route: bodiless,
      variables: new Map(),
      query: new URLSearchParams("api_key.name=x&apiKey.policyId=p&apiKey.id=k2"),
      body: undefined,
    });
    expect(json).toEqual({ apiKey: { id: "k2", name: "x", policyId: "p" } });
    expect(accepted(bodiless, json)).toEqual({ apiKey: { id: "k2", name: "x", policyId: "p" } });
    for (const query of ["apiKey=x", "api_key=x"]) {
      let caught: unknown;
      try {
        transcodeRequest({ route: bodiless, variables: new Map(), query: new URLSearchParams(query), body: undefined });
      } catch (error) {
        caught = error;
      }
      expect(caught, query).toBeInstanceOf(TranscodeError);
      expect((caught as Error).message).toMatch(/no such field/);
    }
  });

  it('body "*": any JSON object passes through, the path variable set on top', () => {
    const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== "__proto__" && k !== "id");
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue({ maxDepth: 2 })), unicodeString({ minLength: 1, maxLength: 12 }), (body, id) => {
        const { json } = transcode("POST", `/api/v1/api_keys/${encodeURIComponent(id)}:rotate`, "", body as JsonValue);
        expect(json).toEqual({ ...(body as JsonObject), id });
      }),
    );
  });

  it("any list query decodes to the values it names", () => {
    const states = ["API_KEY_STATE_UNSPECIFIED", "API_KEY_STATE_ACTIVE", "API_KEY_STATE_RETIRED"] as const;
    const name = (camel: string, snake: string) => fc.constantFrom(camel, snake);
    fc.assert(
      fc.property(
        fc.record(
          {
            pageSize: fc.tuple(name("pageSize", "page_size"), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
            pageToken: fc.tuple(name("pageToken", "page_token"), unicodeString()),
            policyId: fc.tuple(name("policyId", "policy_id"), unicodeString()),
            state: fc.tuple(fc.constant("state"), fc.constantFrom(...states)),
            expiringWithin: fc.tuple(name("expiringWithin", "expiring_within"), fc.integer({ min: 0, max: 10 ** 9 })),
          },
          { requiredKeys: [] },
        ),
        (params) => {
          const query = new URLSearchParams();
          for (const [key, value] of Object.values(params)) query.append(key, String(value) + (key.startsWith("expiring") ? "s" : ""));
          const { variables, route } = routeFor("GET", "/api/v1/api_keys");
          const json = transcodeRequest({ route, variables, query, body: undefined });
          const request = fromJson(AdminListApiKeysRequestSchema, json);
          expect(request.pageSize).toBe(params.pageSize?.[1] ?? 0);
          expect(request.pageToken).toBe(params.pageToken?.[1] ?? "");
          expect(request.policyId).toBe(params.policyId?.[1] ?? "");
          expect(request.state).toBe(params.state ? states.indexOf(params.state[1]) : ApiKeyState.UNSPECIFIED);
          expect(request.expiringWithin?.seconds).toBe(params.expiringWithin ? BigInt(params.expiringWithin[1]) : undefined);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("any name in a PATCH body ends up in the key, masked, with the id from the path", () => {
    fc.assert(
      fc.property(unicodeString({ minLength: 1, maxLength: 12 }), unicodeString(), (id, name) => {
        const { json } = transcode("PATCH", "/api/v1/api_keys/" + encodeURIComponent(id), "", { name });
        const request = fromJson(AdminUpdateApiKeyRequestSchema, json);
        expect(request.apiKey?.id).toBe(id);
        expect(request.apiKey?.name).toBe(name);
        expect(request.updateMask?.paths).toEqual(["name"]);
      }),
    );
  });
});

describe("transcodeRequest: rejected requests", () => {
  // [name, method, path, query, body, what the message says]
  it.each<[string, string, string, string, JsonValue | undefined, RegExp]>([
    ['body "*" with an array', "POST", "/api/v1/api_keys", "", [], /must be a JSON object/],
    ['body "*" with a string', "POST", "/api/v1/api_keys", "", "ci", /must be a JSON object/],
    ['body "*" with a number', "POST", "/api/v1/api_keys", "", 5, /must be a JSON object/],
    ['body "*" with a boolean', "POST", "/api/v1/api_keys", "", true, /must be a JSON object/],
    ['body "*" with null', "POST", "/api/v1/api_keys", "", null, /must be a JSON object/],
    ['body "*" with an array, on a route with a path variable', "PUT", "/api/v1/services/billing/permissions", "", [{ name: "x" }], /must be a JSON object/],
    ['a query parameter on a body "*" route', "POST", "/api/v1/api_keys", "name=x", { policyId: "p" }, /query parameter name: .*request body/],
    ['an unknown query parameter on a body "*" route', "POST", "/api/v1/api_keys", "bogus=1", undefined, /query parameter bogus/],
    ['a query parameter on CheckKey', "POST", "/api/v1/api_keys:check", "key=kw_x", {}, /query parameter key/],
    ['a query parameter naming a path field on a body "*" route', "PUT", "/api/v1/services/billing/permissions", "service=x", {}, /query parameter service/],
    ['a query parameter on rotate', "POST", "/api/v1/api_keys/k1:rotate", "overlap=1s", undefined, /query parameter overlap/],

    ["an unknown query parameter", "GET", "/api/v1/api_keys", "bogus=1", undefined, /query parameter bogus: .*no such field/],
    ["an unknown one among known ones", "GET", "/api/v1/api_keys", "pageSize=1&page_sizes=1", undefined, /query parameter page_sizes/],
    ["a wrongly cased name", "GET", "/api/v1/api_keys", "PageSize=1", undefined, /query parameter PageSize/],
    ["a field of a well-known type", "GET", "/api/v1/api_keys", "expiringWithin.seconds=5", undefined, /query parameter expiringWithin\.seconds/],
    ["any parameter on a request with no fields", "GET", "/api/v1/api_keys/permissions", "pageSize=1", undefined, /query parameter pageSize/],
    ["an unknown parameter on audit events", "GET", "/api/v1/audit_events", "action=x", undefined, /query parameter action/],
    ["a path-bound field", "GET", "/api/v1/api_keys/abc", "id=x", undefined, /query parameter id: .*set by the path/],
    ["a path-bound field on DELETE", "DELETE", "/api/v1/api_keys/policies/p1", "id=x", undefined, /query parameter id/],
    ["a field inside the body field", "PATCH", "/api/v1/api_keys/k1", "api_key.name=x", { name: "y" }, /query parameter api_key\.name/],
    ["the path-bound id, by JSON names", "PATCH", "/api/v1/api_keys/k1", "apiKey.id=x", { name: "y" }, /query parameter apiKey\.id/],
    ["the body field itself", "PATCH", "/api/v1/api_keys/k1", "apiKey=x", { name: "y" }, /query parameter apiKey/],
    ["a field inside the policy body", "PATCH", "/api/v1/api_keys/policies/p1", "policy.name=x", {}, /query parameter policy\.name/],

    ["a body on GET", "GET", "/api/v1/api_keys", "", { pageSize: 1 }, /takes no request body/],
    ["an empty object body on GET", "GET", "/api/v1/api_keys/k1", "", {}, /takes no request body/],
    ["a null body on GET", "GET", "/api/v1/audit_events", "", null, /takes no request body/],
    ["a body on DELETE", "DELETE", "/api/v1/api_keys/k1", "", {}, /takes no request body/],
    ["a body on a policy DELETE", "DELETE", "/api/v1/api_keys/policies/p1", "", { id: "p1" }, /takes no request body/],
  ])("%s: %s %s?%s", (_name, method, path, query, body, message) => {
    expect(transcodeError(method, path, query, body).message).toMatch(message);
  });

  it("names any unknown query parameter", () => {
    const known = new Set(["pageSize", "page_size", "pageToken", "page_token", "policyId", "policy_id", "expiringWithin", "expiring_within", "state", "service", "nameContains", "name_contains", "idleFor", "idle_for", "label"]);
    const param = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/).filter((p) => !known.has(p));
    fc.assert(
      fc.property(param, (name) => {
        const error = transcodeError("GET", "/api/v1/api_keys", `${name}=1`, undefined);
        expect(error.message).toContain(`query parameter ${name}`);
      }),
    );
  });

  // fromJson, which the handler runs on the transcoded JSON, is the check for
  // unknown body fields and malformed values.
  it.each<[string, string, string, string, JsonValue | undefined, RegExp]>([
    ["an unknown field in a body \"*\"", "POST", "/api/v1/api_keys/policies", "", { nmae: "x" }, /"nmae" is unknown/],
    ["an unknown field next to known ones", "POST", "/api/v1/api_keys", "", { name: "x", policyId: "p", extra: 1 }, /"extra" is unknown/],
    ["an unknown nested field", "PUT", "/api/v1/services/billing/permissions", "", { permissions: [{ nmae: "x" }] }, /"nmae" is unknown/],
    ["an unknown field in a body field", "PATCH", "/api/v1/api_keys/k1", "", { nmae: "x" }, /"nmae" is unknown/],
    ["an unknown field in a policy body field", "PATCH", "/api/v1/api_keys/policies/p1", "", { nmae: "x" }, /"nmae" is unknown/],
    ["a field given twice under both names", "POST", "/api/v1/api_keys", "", { policyId: "a", policy_id: "b" }, /set multiple times/],
    ["a wrongly typed body field", "PUT", "/api/v1/services/billing/permissions", "", { permissions: "x" }, /permissions/],
    ["a non-number pageSize", "GET", "/api/v1/api_keys", "pageSize=abc", undefined, /page_size/],
    ["an empty pageSize", "GET", "/api/v1/api_keys", "pageSize=", undefined, /page_size/],
    ["an unknown enum name", "GET", "/api/v1/api_keys", "state=API_KEY_STATE_BOGUS", undefined, /ApiKeyState/],
    ["a malformed Duration", "GET", "/api/v1/api_keys", "expiringWithin=1h", undefined, /Duration|expiring_within/],
    ["a malformed Timestamp", "GET", "/api/v1/audit_events", "startTime=yesterday", undefined, /Timestamp|start_time/],
  ])("fromJson rejects %s: %s %s?%s", (_name, method, path, query, body, message) => {
    const { route, json } = transcode(method, path, query, body);
    expect(() => fromJson(route.method.input, json)).toThrow(message);
  });
});

// Each of these showed a bug in src/transport/rest/transcode.ts. They are
// fixed since; they stay as regression tests.
describe("fixed bugs", () => {
  it.each<[string, JsonValue]>([
    ["a string", "x"],
    ["an array", [{ name: "x" }]],
    ["a number", 5],
  ])("a body field route rejects %s as the body", (_name, body) => {
    // PATCH /api/v1/api_keys/k1 with a non-object body used to transcode to
    // {apiKey: {id: "k1"}}: the path variable replaced the body, which was lost.
    const { route, variables } = routeFor("PATCH", "/api/v1/api_keys/k1");
    expect(() => transcodeRequest({ route, variables, query: new URLSearchParams(), body })).toThrow(TranscodeError);
  });

  it("the caller's body object is not modified", () => {
    const { route, variables } = routeFor("PATCH", "/api/v1/api_keys/k1");
    const body: JsonObject = { name: "x" };
    transcodeRequest({ route, variables, query: new URLSearchParams(), body });
    expect(body).toEqual({ name: "x" });
  });
});

describe("query parameters as grpc-gateway reads them", () => {
  it("accepts an enum by number", () => {
    const { route, json } = transcode("GET", "/api/v1/api_keys", "state=2", undefined);
    expect(fromJson(route.method.input, json)).toMatchObject({ state: 2 });
  });

  it("refuses a single-valued field given twice", () => {
    expect(transcodeError("GET", "/api/v1/api_keys", "pageSize=1&pageSize=2", undefined).message).toContain("more than once");
  });
});
