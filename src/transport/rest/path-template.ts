// google.api.http path templates (google/api/http.proto):
//   Template = "/" Segments [ ":" Verb ]
//   Segment  = "*" | "**" | LITERAL | "{" FieldPath [ "=" Segments ] "}"
// A variable without "=" stands for one segment ("*").

export type Matcher = { kind: "literal"; value: string } | { kind: "one" } | { kind: "many" };

export interface Variable {
  /** Dotted proto field path, e.g. `api_key.id`. */
  fieldPath: string;
  /** Index of its first matcher, and how many it spans. */
  start: number;
  length: number;
}

export interface PathTemplate {
  source: string;
  matchers: Matcher[];
  variables: Variable[];
  verb: string | undefined;
}

const LITERAL = /^[A-Za-z0-9._~!$&'()+,;=@-]+$/;
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function segmentMatcher(segment: string, template: string): Matcher {
  if (segment === "*") return { kind: "one" };
  if (segment === "**") return { kind: "many" };
  if (!LITERAL.test(segment)) throw new Error(`path template ${template}: bad segment "${segment}"`);
  return { kind: "literal", value: segment };
}

export function parseTemplate(source: string): PathTemplate {
  if (!source.startsWith("/")) throw new Error(`path template ${source}: must start with "/"`);
  let body = source.slice(1);
  let verb: string | undefined;
  // A verb follows the last ':' outside braces.
  const lastBrace = body.lastIndexOf("}");
  const colon = body.indexOf(":", lastBrace + 1);
  if (colon >= 0) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (!LITERAL.test(verb)) throw new Error(`path template ${source}: bad verb "${verb}"`);
  }
  const matchers: Matcher[] = [];
  const variables: Variable[] = [];
  // Split on "/" outside braces.
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of body) {
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    if (ch === "/" && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  for (const part of parts) {
    if (part.startsWith("{")) {
      if (!part.endsWith("}")) throw new Error(`path template ${source}: unclosed variable`);
      const inside = part.slice(1, -1);
      const eq = inside.indexOf("=");
      const fieldPath = eq < 0 ? inside : inside.slice(0, eq);
      const pattern = eq < 0 ? undefined : inside.slice(eq + 1);
      if (!FIELD_PATH.test(fieldPath)) throw new Error(`path template ${source}: bad field path "${fieldPath}"`);
      const inner = (pattern ?? "*").split("/").map((s) => segmentMatcher(s, source));
      variables.push({ fieldPath, start: matchers.length, length: inner.length });
      matchers.push(...inner);
    } else {
      matchers.push(segmentMatcher(part, source));
    }
  }
  if (matchers.slice(0, -1).some((m) => m.kind === "many")) throw new Error(`path template ${source}: "**" must be last`);
  return { source, matchers, variables, verb };
}

/** Splits a request path (no query) into decoded segments and a verb, as `template` reads it. */
function splitPath(path: string, template: PathTemplate): string[] | undefined {
  let rest = path;
  if (template.verb !== undefined) {
    const suffix = `:${template.verb}`;
    if (!rest.endsWith(suffix)) return undefined;
    rest = rest.slice(0, -suffix.length);
  }
  if (!rest.startsWith("/")) return undefined;
  return rest.slice(1).split("/");
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * The variables' values when `path` matches, else undefined. A one-segment
 * variable is fully percent-decoded; a multi-segment one keeps %2F encoded, so
 * an encoded slash stays distinguishable from a separator (google/api/http.proto).
 */
export function matchTemplate(template: PathTemplate, path: string): Map<string, string> | undefined {
  const segments = splitPath(path, template);
  if (!segments) return undefined;
  const { matchers } = template;
  const deep = matchers.at(-1)?.kind === "many";
  const fixed = deep ? matchers.length - 1 : matchers.length;
  if (deep ? segments.length < fixed : segments.length !== fixed) return undefined;
  const decoded: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const value = decode(segments[i]!);
    if (value === undefined) return undefined;
    const m = matchers[Math.min(i, matchers.length - 1)]!;
    if (i < fixed) {
      if (m.kind === "literal" ? value !== m.value : value === "") return undefined;
    }
    decoded.push(value);
  }
  const values = new Map<string, string>();
  for (const v of template.variables) {
    const many = matchers[v.start + v.length - 1]?.kind === "many";
    const end = many ? decoded.length : v.start + v.length;
    if (v.length === 1 && !many) {
      values.set(v.fieldPath, decoded[v.start]!);
    } else {
      const raw = segments.slice(v.start, end).map((s) => s.split(/%2f/i).map((part) => decode(part) ?? part).join("%2F"));
      values.set(v.fieldPath, raw.join("/"));
    }
  }
  return values;
}

// Where one template has ended and the other continues with "**", the ended
// one is the more specific ("/v1/x" before "/v1/x/**", which also matches it).
const RANK = { literal: 4, one: 3, end: 2, many: 1 } as const;

/**
 * Orders templates from most to least specific: segment by segment, a literal
 * beats a variable, which beats "**"; then a verb beats none; then longer wins.
 * Negative when `a` is more specific.
 */
export function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  const n = Math.max(a.matchers.length, b.matchers.length);
  for (let i = 0; i < n; i++) {
    const ra = RANK[a.matchers[i]?.kind ?? "end"];
    const rb = RANK[b.matchers[i]?.kind ?? "end"];
    if (ra !== rb) return rb - ra;
  }
  return Number(b.verb !== undefined) - Number(a.verb !== undefined);
}

/** Two templates of the same shape compete for the same paths (used to answer 405 rather than 404). */
export const sameShape = (a: PathTemplate, b: PathTemplate): boolean =>
  compareSpecificity(a, b) === 0 &&
  a.verb === b.verb &&
  a.matchers.every((m, i) => {
    const o = b.matchers[i]!;
    return m.kind === o.kind && (m.kind !== "literal" || (o.kind === "literal" && m.value === o.value));
  });
