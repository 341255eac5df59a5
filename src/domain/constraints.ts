// Key constraints (design §2, after Civis): exact path, path prefix, regex
// over the whole path, HTTP verb. A key with several passes a request that
// matches any of them; a key with none passes every request.
import { RE2JS } from "re2js";
import type { ConstraintRecord } from "../storage/records.js";
import { InvalidArgumentError } from "./errors.js";

export type Constraint = ConstraintRecord;

const VERB = /^[A-Z]{1,20}$/;
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

/** `jobs` and `/jobs` both name the path /jobs. */
const absolutePath = (value: string): string => (value.startsWith("/") ? value : `/${value}`);

function checkPathValue(field: string, value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError(field, "a path is required");
  if (/[\s?#]/.test(value) || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidArgumentError(field, "a path must not contain spaces, control characters, '?' or '#'");
  }
  if (DOT_SEGMENT.test(value)) throw new InvalidArgumentError(field, "a path must not contain '.' or '..' segments");
  const path = absolutePath(value);
  // Such a value could never match: checks refuse every path that holds one of these forms.
  if (!isUnambiguousPath(path)) {
    throw new InvalidArgumentError(field, "a path must not contain '\\', ';', '//', dot-only segments, or encoded '.', '/', '\\', ';', '%', '?', '#' or control characters");
  }
  return path;
}

// Compiled regexes, shared by every key that uses the same pattern; bounded
// because patterns come from admins, not from requests.
const compiled = new Map<string, RE2JS>();
const MAX_COMPILED = 10_000;

function regex(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(pattern, re);
  }
  return re;
}

/** Validates and normalises a key's constraints (paths made absolute, verbs upper-cased). */
export function checkConstraints(field: string, constraints: readonly Constraint[]): Constraint[] {
  const out = constraints.map(({ type, value }, i): Constraint => {
    const at = `${field}[${i}].value`;
    switch (type) {
      case "exact":
      case "prefix":
        return { type, value: checkPathValue(at, value) };
      case "regex":
        if (value === "") throw new InvalidArgumentError(at, "a regular expression is required");
        try {
          regex(value);
        } catch (error) {
          throw new InvalidArgumentError(at, `invalid regular expression (RE2 syntax): ${(error as Error).message}`);
        }
        return { type, value };
      case "verb": {
        const verbs = value.split(",").map((v) => v.trim().toUpperCase());
        if (!verbs.every((v) => VERB.test(v))) throw new InvalidArgumentError(at, "must be HTTP methods, comma-separated (GET or GET,HEAD)");
        return { type, value: [...new Set(verbs)].join(",") };
      }
    }
  });
  const seen = new Set<string>();
  return out.filter((c) => !seen.has(`${c.type} ${c.value}`) && !!seen.add(`${c.type} ${c.value}`));
}

// A path is judged as the raw string a service passes, so a form that some
// router reads as another path could walk out of a prefix. Such forms are
// refused outright (fail closed: CONSTRAINT_DENIED for a path constraint);
// none is normalised, since Keyward cannot know which reading the service
// makes. README "Scoping and lifecycle" lists every form and why.

/** Characters no router agrees on: `\` (a separator on Windows and to many routers), `;` (path parameters, stripped before `..` is resolved), controls. */
const UNSAFE_CHARACTER = /[\\;\u0000-\u001f\u007f]/;
/** An empty segment: `//` is collapsed by some routers, and read as a network path (`//host/...`) by URL parsers. */
const EMPTY_SEGMENT = /\/\//;
/**
 * A `%` that is not a plain escape of a harmless byte: not followed by two hex
 * digits (IIS's `%u002e`, malformed escapes), or encoding `.` `/` `\` `;` `%`
 * (double encoding) `?` `#` or a control character, which a decoding service
 * turns into structure.
 */
const UNSAFE_ESCAPE = /%(?![0-9a-f]{2})|%(?:2e|2f|5c|3b|25|3f|23|[01][0-9a-f]|7f)/i;
/** A segment of dots only, also with trailing spaces (which Windows strips): `.`, `..`, `...`, `.. `. */
const DOTS_SEGMENT = /(?:^|\/)\s*\.[.\s]*(?:\/|$)/;
const NON_ASCII = /[^\u0000-\u007f]/;
/** ASCII that gives a path structure, should a non-ASCII character fold into it. */
const STRUCTURE = /[./\\;%?#:\u0000-\u001f\u007f]/;

/** Whether a character folds (NFKC) into path structure: fullwidth `．` `／` `＼`, `‥`, `℅`. */
const foldsIntoStructure = (text: string): boolean => [...text].some((c) => c.charCodeAt(0) > 0x7f && STRUCTURE.test(c.normalize("NFKC")));

/** Whether a raw path reads the same to every router: no form above, also once percent-decoded. */
function isUnambiguousPath(path: string): boolean {
  if (UNSAFE_CHARACTER.test(path) || EMPTY_SEGMENT.test(path) || DOTS_SEGMENT.test(path)) return false;
  if (NON_ASCII.test(path) && foldsIntoStructure(path)) return false;
  if (!path.includes("%")) return true;
  if (UNSAFE_ESCAPE.test(path)) return false;
  let decoded: string;
  try {
    // Throws on escapes that are not UTF-8, overlong forms included (`%c0%ae` for '.').
    decoded = decodeURIComponent(path);
  } catch {
    return false;
  }
  // The escapes left decode to no structure, but may complete a dot segment (`..%20`) or a fullwidth dot.
  return !DOTS_SEGMENT.test(decoded) && !(NON_ASCII.test(decoded) && foldsIntoStructure(decoded));
}

/** The path a check is judged on: without query or fragment; undefined when it cannot be judged safely. */
function requestPath(path: string): string | undefined {
  const bare = path.split(/[?#]/)[0]!;
  if (!bare.startsWith("/") || !isUnambiguousPath(bare)) return undefined;
  return bare;
}

function matches(c: Constraint, method: string, path: string | undefined): boolean {
  switch (c.type) {
    case "verb":
      return method !== "" && c.value.split(",").includes(method.toUpperCase());
    case "exact":
      return path === c.value;
    case "prefix":
      return path !== undefined && (path === c.value || path.startsWith(c.value.endsWith("/") ? c.value : `${c.value}/`));
    case "regex":
      return path !== undefined && regex(c.value).matches(path);
  }
}

/** Whether a request (`method`, `path`) passes a key's constraints. */
export function constraintsAllow(constraints: readonly Constraint[], method: string, path: string): boolean {
  if (constraints.length === 0) return true;
  const p = path === "" ? undefined : requestPath(path);
  return constraints.some((c) => matches(c, method, p));
}

/** Whether every request `inner` allows is allowed by `outer` too. */
function implies(outer: Constraint, inner: Constraint): boolean {
  if (outer.type === inner.type && outer.value === inner.value) return true;
  if (inner.type === "verb") {
    return outer.type === "verb" && inner.value.split(",").every((v) => outer.value.split(",").includes(v));
  }
  if (outer.type === "verb") return false;
  if (inner.type === "exact") return matches(outer, "", inner.value);
  if (inner.type === "prefix" && outer.type === "prefix") return matches(outer, "", inner.value);
  return false;
}

/** Whether a key constrained by `inner` is at least as restricted as one constrained by `outer` (none = unrestricted). */
export function constraintsWithin(inner: readonly Constraint[], outer: readonly Constraint[]): boolean {
  if (outer.length === 0) return true;
  if (inner.length === 0) return false;
  return inner.every((i) => outer.some((o) => implies(o, i)));
}
