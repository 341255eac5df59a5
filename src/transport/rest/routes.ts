// The REST routes, read from the google.api.http options in the generated
// descriptors: annotating an RPC in a .proto is all it takes to expose it.
import { getOption, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { http } from "../../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../../gen/google/api/http_pb.js";
import { compareSpecificity, matchTemplate, parseTemplate, sameShape, type PathTemplate } from "./path-template.js";

export interface RestRoute {
  httpMethod: string;
  template: PathTemplate;
  method: DescMethod;
  /** "" (no body), "*" (the whole request) or the name of the request field the body fills. */
  body: string;
  /** "" (the whole response) or the response field sent as the body. */
  responseBody: string;
}

function bindingsOf(rule: HttpRule): HttpRule[] {
  return [rule, ...rule.additionalBindings.flatMap(bindingsOf)];
}

function routeOf(method: DescMethod, rule: HttpRule): RestRoute | undefined {
  const p = rule.pattern;
  let httpMethod: string;
  let path: string;
  switch (p.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      httpMethod = p.case.toUpperCase();
      path = p.value;
      break;
    case "custom":
      httpMethod = p.value.kind.toUpperCase();
      path = p.value.path;
      break;
    default:
      return undefined;
  }
  return { httpMethod, template: parseTemplate(path), method, body: rule.body, responseBody: rule.responseBody };
}

export function restRoutes(services: readonly DescService[]): RestRoute[] {
  return services.flatMap((service) =>
    service.methods
      .filter((m) => m.methodKind === "unary")
      .flatMap((m) => {
        const rule = getOption(m, http);
        return rule.pattern.case === undefined ? [] : bindingsOf(rule).flatMap((r) => routeOf(m, r) ?? []);
      }),
  );
}

export type RouteLookup =
  | { found: true; route: RestRoute; variables: Map<string, string> }
  | { found: false; allowed: string[] };

/**
 * The route for a request. Among the templates that match the path, the most
 * specific shape decides (so /api/v1/api_keys/policies is never read as a
 * key id); if none of that shape takes the HTTP method, `allowed` lists those
 * that do (405), and an empty list means no route matched (404).
 */
export function findRoute(routes: readonly RestRoute[], httpMethod: string, path: string): RouteLookup {
  const matching = routes
    .map((route) => ({ route, variables: matchTemplate(route.template, path) }))
    .filter((m): m is { route: RestRoute; variables: Map<string, string> } => m.variables !== undefined)
    .sort((a, b) => compareSpecificity(a.route.template, b.route.template));
  const best = matching[0];
  if (!best) return { found: false, allowed: [] };
  const top = matching.filter((m) => sameShape(m.route.template, best.route.template));
  const wanted = httpMethod === "HEAD" ? "GET" : httpMethod;
  const hit = top.find((m) => m.route.httpMethod === wanted);
  if (hit) return { found: true, route: hit.route, variables: hit.variables };
  return { found: false, allowed: [...new Set(top.map((m) => m.route.httpMethod))] };
}
