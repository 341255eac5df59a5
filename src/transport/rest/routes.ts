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
 * Finds the route for a request. Among the templates that match the path, the
 * most specific shape decides (so /api/v1/api_keys/policies is never read as a
 * key id); if none of that shape takes the HTTP method, `allowed` lists those
 * that do (405), and an empty list means no route matched (404).
 * The routes are ordered by specificity here, once, so a request sorts nothing:
 * the first that matches has the best shape, and its rivals follow it.
 */
export function routeFinder(routes: readonly RestRoute[]): (httpMethod: string, path: string) => RouteLookup {
  // A stable sort: routes of one shape keep their table order, as they did when each request sorted its matches.
  const ordered = [...routes].sort((a, b) => compareSpecificity(a.template, b.template));
  return (httpMethod, path) => {
    const wanted = httpMethod === "HEAD" ? "GET" : httpMethod;
    let best: PathTemplate | undefined;
    const allowed = new Set<string>();
    for (const route of ordered) {
      if (best && compareSpecificity(route.template, best) !== 0) break; // only less specific ones are left
      if (best && !sameShape(route.template, best)) continue;
      const variables = matchTemplate(route.template, path);
      if (!variables) continue;
      best ??= route.template;
      if (route.httpMethod === wanted) return { found: true, route, variables };
      allowed.add(route.httpMethod);
    }
    return { found: false, allowed: [...allowed] };
  };
}
