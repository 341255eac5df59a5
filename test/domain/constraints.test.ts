// Key constraints (design §2): exact path, path prefix, whole-path regex, HTTP verb;
// several are OR'd, none allows everything; the no-escalation rule (constraintsWithin).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkConstraints, constraintsAllow, constraintsWithin, type Constraint } from "../../src/domain/constraints.js";
import { InvalidArgumentError } from "../../src/domain/errors.js";

type Kind = Constraint["type"];

/** Constraints as a key stores them: through checkConstraints, so values are normalised. */
const keyConstraints = (...list: [Kind, string][]): Constraint[] =>
  checkConstraints(
    "constraints",
    list.map(([type, value]) => ({ type, value })),
  );

/** Runs `fn`, expecting an InvalidArgumentError that names `field`. */
function expectInvalid(fn: () => unknown, field: string): InvalidArgumentError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  const error = caught as InvalidArgumentError;
  expect(error.field).toBe(field);
  expect(error.message.startsWith(`${field}: `)).toBe(true);
  return error;
}

describe("checkConstraints normalises", () => {
  it.each<[string, [Kind, string][], Constraint[]]>([
    ["a relative exact path is made absolute", [["exact", "jobs"]], [{ type: "exact", value: "/jobs" }]],
    ["a relative prefix is made absolute", [["prefix", "jobs"]], [{ type: "prefix", value: "/jobs" }]],
    ["a trailing slash on a prefix is kept", [["prefix", "jobs/"]], [{ type: "prefix", value: "/jobs/" }]],
    ["an absolute path is kept", [["exact", "/jobs/7"]], [{ type: "exact", value: "/jobs/7" }]],
    ["the root prefix is kept", [["prefix", "/"]], [{ type: "prefix", value: "/" }]],
    ["verbs are upper-cased and spaces dropped", [["verb", "get, head"]], [{ type: "verb", value: "GET,HEAD" }]],
    ["repeated verbs collapse", [["verb", "GET,get, Get ,head"]], [{ type: "verb", value: "GET,HEAD" }]],
    ["a regex is kept as written", [["regex", "/reports/[0-9]+"]], [{ type: "regex", value: "/reports/[0-9]+" }]],
    [
      "duplicates (after normalising) are dropped, first one kept in place",
      [
        ["exact", "jobs"],
        ["verb", "GET"],
        ["exact", "/jobs"],
        ["verb", "get"],
      ],
      [
        { type: "exact", value: "/jobs" },
        { type: "verb", value: "GET" },
      ],
    ],
    [
      "the same value under different types is not a duplicate",
      [
        ["exact", "/jobs"],
        ["prefix", "/jobs"],
        ["regex", "/jobs"],
      ],
      [
        { type: "exact", value: "/jobs" },
        { type: "prefix", value: "/jobs" },
        { type: "regex", value: "/jobs" },
      ],
    ],
    ["no constraints stay none", [], []],
  ])("%s", (_what, input, expected) => {
    expect(keyConstraints(...input)).toEqual(expected);
  });

  // The count (20) and length (512) are bounded in api_keys.proto (test/proto/field-rules.test.ts).
  it("accepts 20 constraints and a 512-character value", () => {
    const twenty = Array.from({ length: 20 }, (_, i): [Kind, string] => ["exact", `/jobs/${i}`]);
    expect(keyConstraints(...twenty)).toHaveLength(20);
    const path512 = `/${"a".repeat(511)}`;
    expect(keyConstraints(["prefix", path512])).toEqual([{ type: "prefix", value: path512 }]);
    const regex512 = `/${"b".repeat(509)}.*`;
    expect(keyConstraints(["regex", regex512])).toEqual([{ type: "regex", value: regex512 }]);
  });
});

describe("checkConstraints refuses", () => {
  it.each<[string, Kind, string]>([
    ["an empty exact path", "exact", ""],
    ["an empty prefix", "prefix", ""],
    ["a blank path", "exact", "   "],
    ["a path with a space", "exact", "/jobs list"],
    ["a path with a tab", "prefix", "/jobs\t"],
    ["a path with '?'", "exact", "/jobs?id=7"],
    ["a path with '#'", "prefix", "/jobs#top"],
    ["a path with a NUL", "exact", "/jobs\u0000"],
    ["a path with a newline", "prefix", "/jobs\n/admin"],
    ["a path with DEL", "exact", "/jobs\u007f"],
    ["a '..' segment", "prefix", "/jobs/../admin"],
    ["a leading '..'", "prefix", "../admin"],
    ["a bare '..'", "exact", ".."],
    ["a '.' segment", "prefix", "/jobs/./7"],
    ["a trailing '.' segment", "exact", "/jobs/."],
    ["a leading '.' segment", "prefix", "./jobs"],
    // Forms every check refuses (README "path forms"), so a constraint holding one could never match.
    ["a backslash", "prefix", "/jobs\\admin"],
    ["a ';'", "exact", "/jobs;v=1"],
    ["an empty segment", "prefix", "/jobs//7"],
    ["a '...' segment", "prefix", "/jobs/..."],
    ["an encoded dot", "exact", "/jobs/%2e"],
    ["a double encoding", "prefix", "/jobs/%2561"],
    ["a malformed escape", "exact", "/jobs/%u002e"],
    ["a fullwidth dot segment", "prefix", "/jobs/\uff0e\uff0e"],
    ["an empty regex", "regex", ""],
    ["an unclosed group", "regex", "(a"],
    ["a lookbehind", "regex", "(?<=a)b"],
    ["a lookahead", "regex", "a(?=b)"],
    ["a backreference", "regex", "(a)\\1"],
    ["an unbalanced bracket", "regex", "/jobs/[0-9"],
    ["a shell-looking verb", "verb", "GET;rm"],
    ["an empty verb", "verb", ""],
    ["an empty verb in the list", "verb", "GET,"],
    ["a verb with a space inside", "verb", "G ET"],
    ["a numeric verb", "verb", "123"],
    ["a verb longer than 20 letters", "verb", "A".repeat(21)],
  ])("%s (%j), naming constraints[1].value", (_what, type, value) => {
    // A valid constraint first, so the index in the field name is checked too.
    expectInvalid(
      () =>
        checkConstraints("constraints", [
          { type: "exact", value: "/ok" },
          { type, value },
        ]),
      "constraints[1].value",
    );
  });

  it("names the field it was given (update path)", () => {
    expectInvalid(() => checkConstraints("api_key.constraints", [{ type: "regex", value: "(a" }]), "api_key.constraints[0].value");
  });
});

describe("constraintsAllow", () => {
  type Row = [string, [Kind, string][], string, string, boolean];
  it.each<Row>([
    // exact
    ["exact: the same path", [["exact", "jobs"]], "GET", "/jobs", true],
    ["exact: a sub-path", [["exact", "/jobs"]], "GET", "/jobs/7", false],
    ["exact: a trailing slash is another path", [["exact", "/jobs"]], "GET", "/jobs/", false],
    ["exact: a longer segment", [["exact", "/jobs"]], "GET", "/jobsx", false],
    ["exact: the parent", [["exact", "/jobs/7"]], "GET", "/jobs", false],
    ["exact: paths are case-sensitive", [["exact", "/jobs"]], "GET", "/Jobs", false],
    ["exact: the query string is ignored", [["exact", "/jobs"]], "GET", "/jobs?page=2", true],
    ["exact: the fragment is ignored", [["exact", "/jobs"]], "GET", "/jobs#top", true],
    ["exact: query then fragment", [["exact", "/jobs"]], "GET", "/jobs?a=1#b", true],
    ["exact: the method does not matter", [["exact", "/jobs"]], "DELETE", "/jobs", true],
    // prefix, segment-aware
    ["prefix: the path itself", [["prefix", "jobs"]], "GET", "/jobs", true],
    ["prefix: a child", [["prefix", "/jobs"]], "GET", "/jobs/7", true],
    ["prefix: a grandchild", [["prefix", "/jobs"]], "GET", "/jobs/7/runs", true],
    ["prefix: the path with a trailing slash", [["prefix", "/jobs"]], "GET", "/jobs/", true],
    ["prefix: a longer segment", [["prefix", "/jobs"]], "GET", "/jobsx", false],
    ["prefix: a longer segment below", [["prefix", "/jobs"]], "GET", "/jobsx/7", false],
    ["prefix: the parent", [["prefix", "/jobs/7"]], "GET", "/jobs", false],
    ["prefix: a sibling", [["prefix", "/jobs/7"]], "GET", "/jobs/70", false],
    ["prefix: another path", [["prefix", "/jobs"]], "GET", "/admin/jobs", false],
    ["prefix: the query string is ignored", [["prefix", "/jobs"]], "GET", "/jobs/7?x=/../admin", true],
    ["prefix: a query cannot smuggle the prefix in", [["prefix", "/jobs"]], "GET", "/admin?/jobs", false],
    ["prefix: a fragment cannot smuggle the prefix in", [["prefix", "/jobs"]], "GET", "/admin#/jobs", false],
    ["prefix ending in '/': a child", [["prefix", "/jobs/"]], "GET", "/jobs/7", true],
    ["prefix ending in '/': itself", [["prefix", "/jobs/"]], "GET", "/jobs/", true],
    ["prefix ending in '/': without the slash", [["prefix", "/jobs/"]], "GET", "/jobs", false],
    ["prefix ending in '/': a longer segment", [["prefix", "/jobs/"]], "GET", "/jobsx", false],
    ["prefix '/': any absolute path", [["prefix", "/"]], "GET", "/anything/at/all", true],
    // regex, anchored at both ends
    ["regex: a full match", [["regex", "/reports/[0-9]+"]], "GET", "/reports/12", true],
    ["regex: not at the start", [["regex", "/reports/[0-9]+"]], "GET", "/x/reports/1", false],
    ["regex: not at the end", [["regex", "/reports/[0-9]+"]], "GET", "/reports/1/x", false],
    ["regex: a partial match in the middle", [["regex", "reports"]], "GET", "/reports", false],
    ["regex: an alternation is anchored as a whole", [["regex", "/a|/b"]], "GET", "/a/x", false],
    ["regex: an alternation, the second branch", [["regex", "/a|/b"]], "GET", "/b", true],
    ["regex: the query string is ignored", [["regex", "/reports/[0-9]+"]], "GET", "/reports/1?format=csv", true],
    ["regex: a query cannot complete a match", [["regex", "/reports/[0-9]+\\?x"]], "GET", "/reports/1?x", false],
    // verb
    ["verb: listed", [["verb", "GET,HEAD"]], "HEAD", "/anything", true],
    ["verb: case-insensitive method", [["verb", "GET"]], "get", "/jobs", true],
    ["verb: case-insensitive constraint", [["verb", "post"]], "POST", "/jobs", true],
    ["verb: not listed", [["verb", "GET,HEAD"]], "POST", "/jobs", false],
    ["verb: a prefix of a listed verb", [["verb", "GET"]], "GE", "/jobs", false],
    ["verb: the whole list is not a method", [["verb", "GET,HEAD"]], "GET,HEAD", "/jobs", false],
    ["verb: without a path", [["verb", "GET"]], "GET", "", true],
    ["verb: without a method", [["verb", "GET"]], "", "/jobs", false],
    // OR
    ["several: the first matches", [["exact", "/a"], ["prefix", "/b"], ["verb", "GET"]], "POST", "/a", true],
    ["several: the second matches", [["exact", "/a"], ["prefix", "/b"], ["verb", "GET"]], "POST", "/b/c", true],
    ["several: the third matches", [["exact", "/a"], ["prefix", "/b"], ["verb", "GET"]], "GET", "/c", true],
    ["several: none matches", [["exact", "/a"], ["prefix", "/b"], ["verb", "GET"]], "POST", "/c", false],
    // none
    ["none: anything", [], "DELETE", "/admin/../etc", true],
    ["none: even an empty request", [], "", "", true],
    // empty method and path
    ["an empty request against exact", [["exact", "/jobs"]], "", "", false],
    ["an empty request against prefix '/'", [["prefix", "/"]], "", "", false],
    ["an empty request against a match-all regex", [["regex", ".*"]], "", "", false],
    ["an empty request against verbs", [["verb", "GET,POST"]], "", "", false],
    // dot segments, encoded or not
    ["'..' out of a prefix", [["prefix", "/jobs"]], "GET", "/jobs/../admin", false],
    ["'..' at the end", [["prefix", "/jobs"]], "GET", "/jobs/7/..", false],
    ["'.' segment", [["prefix", "/jobs"]], "GET", "/jobs/./7", false],
    ["'%2e%2e' out of a prefix", [["prefix", "/jobs"]], "GET", "/jobs/%2e%2e/admin", false],
    ["'%2E%2E' upper-case", [["prefix", "/jobs"]], "GET", "/jobs/%2E%2E/admin", false],
    ["'.%2e' mixed", [["prefix", "/jobs"]], "GET", "/jobs/.%2e/admin", false],
    ["'..' against a match-all regex", [["regex", ".*"]], "GET", "/jobs/../admin", false],
    ["'..' against prefix '/'", [["prefix", "/"]], "GET", "/jobs/../admin", false],
    ["'..' against a regex spelling it out", [["regex", "/admin/\\.\\./jobs"]], "GET", "/admin/../jobs", false],
    // forms routers read differently (issue #14 finding 3): refused, whatever the constraint
    ["'\\' read as '/'", [["prefix", "/jobs"]], "GET", "/jobs/..\\admin", false],
    ["'\\' between segments", [["prefix", "/jobs"]], "GET", "/jobs/7\\runs", false],
    ["'\\' against a match-all regex", [["regex", ".*"]], "GET", "/jobs\\..\\admin", false],
    ["'..;' (Tomcat, Spring path parameter)", [["prefix", "/jobs"]], "GET", "/jobs/..;/admin", false],
    ["'..;' with a parameter", [["prefix", "/jobs"]], "GET", "/jobs/..;jsessionid=1/admin", false],
    ["'.;' segment", [["prefix", "/jobs"]], "GET", "/jobs/.;/7", false],
    ["';' in a name", [["prefix", "/jobs"]], "GET", "/jobs/7;v=1", false],
    ["';' against a match-all regex", [["regex", ".*"]], "GET", "/admin;/jobs", false],
    ["encoded ';'", [["prefix", "/jobs"]], "GET", "/jobs/..%3B/admin", false],
    ["double-encoded '.'", [["prefix", "/jobs"]], "GET", "/jobs/%252e%252e/admin", false],
    ["double-encoded '/'", [["prefix", "/jobs"]], "GET", "/jobs/x%252f..%252fadmin", false],
    ["triple-encoded '.'", [["prefix", "/jobs"]], "GET", "/jobs/%25252e%25252e/admin", false],
    ["any encoded '%'", [["prefix", "/jobs"]], "GET", "/jobs/100%25", false],
    ["IIS %u encoding", [["prefix", "/jobs"]], "GET", "/jobs/%u002e%u002e/admin", false],
    ["a '%' without two hex digits", [["prefix", "/jobs"]], "GET", "/jobs/%zz", false],
    ["a '%' at the end", [["prefix", "/jobs"]], "GET", "/jobs/7%", false],
    ["overlong UTF-8 '.'", [["prefix", "/jobs"]], "GET", "/jobs/%c0%ae%c0%ae/admin", false],
    ["overlong UTF-8 '/'", [["prefix", "/jobs"]], "GET", "/jobs/..%c0%afadmin", false],
    ["overlong UTF-8 '\\'", [["prefix", "/jobs"]], "GET", "/jobs/..%c1%9cadmin", false],
    ["three-byte overlong '.'", [["prefix", "/jobs"]], "GET", "/jobs/%e0%80%ae%e0%80%ae/admin", false],
    ["escapes that are not UTF-8 (Latin-1)", [["prefix", "/jobs"]], "GET", "/jobs/caf%e9", false],
    ["a lone surrogate", [["prefix", "/jobs"]], "GET", "/jobs/%ed%a0%80", false],
    ["fullwidth dots", [["prefix", "/jobs"]], "GET", "/jobs/\uff0e\uff0e/admin", false],
    ["encoded fullwidth dots", [["prefix", "/jobs"]], "GET", "/jobs/%ef%bc%8e%ef%bc%8e/admin", false],
    ["a two-dot leader", [["prefix", "/jobs"]], "GET", "/jobs/\u2025/admin", false],
    ["a fullwidth solidus", [["prefix", "/jobs"]], "GET", "/jobs/x\uff0f..\uff0fadmin", false],
    ["a fullwidth backslash", [["prefix", "/jobs"]], "GET", "/jobs/..\uff3cadmin", false],
    ["a NUL", [["prefix", "/jobs"]], "GET", "/jobs/7\u0000", false],
    ["an encoded NUL", [["prefix", "/jobs"]], "GET", "/jobs/7%00.json", false],
    ["an encoded newline", [["prefix", "/jobs"]], "GET", "/jobs/7%0a", false],
    ["an encoded DEL", [["prefix", "/jobs"]], "GET", "/jobs/7%7F", false],
    ["a raw tab", [["prefix", "/jobs"]], "GET", "/jobs/7\t", false],
    ["'//' inside", [["prefix", "/jobs"]], "GET", "/jobs//7", false],
    ["'//' at the start (a network path)", [["regex", "/.*"]], "GET", "//admin/jobs", false],
    ["a trailing '/.'", [["prefix", "/jobs"]], "GET", "/jobs/.", false],
    ["a trailing '/..'", [["prefix", "/jobs"]], "GET", "/jobs/..", false],
    ["a '...' segment", [["prefix", "/jobs"]], "GET", "/jobs/.../admin", false],
    ["'.. ' with a space (Windows strips it)", [["prefix", "/jobs"]], "GET", "/jobs/..%20/admin", false],
    ["'..' with a raw trailing space", [["prefix", "/jobs"]], "GET", "/jobs/.. /admin", false],
    ["encoded '?' (re-parsed, it truncates)", [["regex", "/jobs/.+"]], "GET", "/jobs/%3f", false],
    ["encoded '#'", [["prefix", "/jobs"]], "GET", "/jobs/x%23/admin", false],
    // and what stays a plain path
    ["encoded letters, any case of hex", [["prefix", "/jobs"]], "GET", "/jobs/%41%7e%7E", true],
    ["an encoded space in a name", [["prefix", "/jobs"]], "GET", "/jobs/my%20job", true],
    ["UTF-8 escapes", [["prefix", "/jobs"]], "GET", "/jobs/caf%C3%A9", true],
    ["a decoded non-ASCII name", [["prefix", "/jobs"]], "GET", "/jobs/caf\u00e9", true],
    ["a dot inside a name", [["prefix", "/jobs"]], "GET", "/jobs/report.csv", true],
    ["a trailing dot on a name (stays inside its segment)", [["prefix", "/jobs"]], "GET", "/jobs/7.", true],
    ["a hidden-file name", [["prefix", "/jobs"]], "GET", "/jobs/.config", true],
    ["a '..' inside a name", [["prefix", "/jobs"]], "GET", "/jobs/a..b", true],
    ["a colon (a custom method)", [["exact", "/jobs:run"]], "GET", "/jobs:run", true],
    ["percent-hex is judged as written, not decoded", [["exact", "/jobs"]], "GET", "/%6aobs", false],
    // relative paths
    ["a relative path against exact", [["exact", "/jobs"]], "GET", "jobs", false],
    ["a relative path against prefix", [["prefix", "/jobs"]], "GET", "jobs/7", false],
    ["a relative path against a match-all regex", [["regex", ".*"]], "GET", "jobs", false],
    ["a query-only path against prefix '/'", [["prefix", "/"]], "GET", "?/jobs", false],
    // a verb constraint does not care about the path's shape
    ["a relative path with a verb constraint", [["verb", "GET"]], "GET", "jobs/../x", true],
  ])("%s: %j %s %j → %s", (_what, list, method, path, expected) => {
    expect(constraintsAllow(keyConstraints(...list), method, path)).toBe(expected);
  });

  it.each([
    ["/(a+)+b", `/${"a".repeat(5000)}`],
    ["(x+x+)+y", "x".repeat(5000)],
    ["/(a|aa)+$", `/${"a".repeat(4999)}!`],
    ["/(.*a){12}", `/${"a".repeat(5000)}b`],
  ])("a catastrophic-backtracking pattern %j against a 5000-character path is just false", (pattern, path) => {
    // The test finishing within the default timeout is the point; timing belongs in benchmarks.
    expect(constraintsAllow(keyConstraints(["regex", pattern]), "GET", path)).toBe(false);
  });

  const segment = fc.stringMatching(/^[a-z0-9]{1,8}$/);
  const segments = fc.array(segment, { minLength: 1, maxLength: 6 });
  const join = (s: readonly string[]): string => `/${s.join("/")}`;

  it("a prefix of a path's first k segments allows the path (and its children, queries)", () => {
    fc.assert(
      fc.property(segments, fc.nat(), fc.boolean(), (segs, n, relative) => {
        const k = 1 + (n % segs.length);
        const prefix = join(segs.slice(0, k));
        const key = keyConstraints(["prefix", relative ? prefix.slice(1) : prefix]);
        expect(constraintsAllow(key, "GET", join(segs))).toBe(true);
        expect(constraintsAllow(key, "GET", `${join(segs)}/child`)).toBe(true);
        expect(constraintsAllow(key, "GET", `${join(segs)}?q=1`)).toBe(true);
        // So does the same prefix written with a trailing slash, for every path below it.
        if (k < segs.length) expect(constraintsAllow(keyConstraints(["prefix", `${prefix}/`]), "GET", join(segs))).toBe(true);
      }),
    );
  });

  it("a prefix whose last segment is longer than the path's does not allow the path", () => {
    fc.assert(
      fc.property(segments, fc.nat(), segment, (segs, n, extra) => {
        const k = 1 + (n % segs.length);
        const prefix = `${join(segs.slice(0, k))}${extra}`;
        const key = keyConstraints(["prefix", prefix]);
        expect(constraintsAllow(key, "GET", join(segs))).toBe(false);
      }),
    );
  });

  it("an exact constraint allows exactly its own value", () => {
    // Tiny segments so that equal paths come up often.
    const small = fc.array(fc.constantFrom("a", "b", "ab"), { minLength: 1, maxLength: 3 }).map(join);
    fc.assert(
      fc.property(small, small, fc.constantFrom("", "?x=1", "#f"), (value, path, suffix) => {
        const key = keyConstraints(["exact", value]);
        expect(constraintsAllow(key, "GET", `${path}${suffix}`)).toBe(path === value);
      }),
    );
  });
});

describe("constraintsWithin", () => {
  type Row = [string, [Kind, string][], [Kind, string][], boolean];
  it.each<Row>([
    ["outer empty: anything is within", [["prefix", "/"]], [], true],
    ["outer empty: inner empty too", [], [], true],
    ["inner empty with outer non-empty", [], [["prefix", "/"]], false],
    ["the same prefix", [["prefix", "/jobs"]], [["prefix", "jobs"]], true],
    ["a longer prefix", [["prefix", "/jobs/7"]], [["prefix", "/jobs"]], true],
    ["a prefix with a trailing slash within the bare one", [["prefix", "/jobs/"]], [["prefix", "/jobs"]], true],
    ["the bare prefix not within the one with a trailing slash", [["prefix", "/jobs"]], [["prefix", "/jobs/"]], false],
    ["a prefix within '/'", [["prefix", "/jobs"]], [["prefix", "/"]], true],
    ["a shorter prefix", [["prefix", "/jobs"]], [["prefix", "/jobs/7"]], false],
    ["a longer segment is not a sub-prefix", [["prefix", "/jobsx"]], [["prefix", "/jobs"]], false],
    ["exact within a prefix", [["exact", "/jobs/7"]], [["prefix", "/jobs"]], true],
    ["exact equal to the prefix", [["exact", "/jobs"]], [["prefix", "/jobs"]], true],
    ["exact outside the prefix", [["exact", "/jobsx"]], [["prefix", "/jobs"]], false],
    ["exact within a regex", [["exact", "/jobs/7"]], [["regex", "/jobs/[0-9]+"]], true],
    ["exact outside a regex", [["exact", "/jobs/x"]], [["regex", "/jobs/[0-9]+"]], false],
    ["exact not matching the anchored regex", [["exact", "/a/jobs/7"]], [["regex", "/jobs/[0-9]+"]], false],
    ["the same exact", [["exact", "/jobs"]], [["exact", "jobs"]], true],
    ["another exact", [["exact", "/jobs/7"]], [["exact", "/jobs"]], false],
    ["prefix not within exact", [["prefix", "/jobs"]], [["exact", "/jobs"]], false],
    ["prefix not within a regex (not decided, so refused)", [["prefix", "/jobs"]], [["regex", "/jobs.*"]], false],
    ["the same regex", [["regex", "/jobs/[0-9]+"]], [["regex", "/jobs/[0-9]+"]], true],
    ["a regex not within a prefix (not decided, so refused)", [["regex", "/jobs/[0-9]+"]], [["prefix", "/jobs"]], false],
    ["verb GET within GET,HEAD", [["verb", "GET"]], [["verb", "GET,HEAD"]], true],
    ["verbs in another order", [["verb", "head,get"]], [["verb", "GET,HEAD"]], true],
    ["verb GET,POST not within GET", [["verb", "GET,POST"]], [["verb", "GET"]], false],
    ["a path constraint not within a verb", [["prefix", "/jobs"]], [["verb", "GET"]], false],
    ["a verb not within a path constraint", [["verb", "GET"]], [["prefix", "/"]], false],
    ["a verb not within a match-all regex", [["verb", "GET"]], [["regex", ".*"]], false],
    ["every inner one must be within", [["prefix", "/jobs"], ["prefix", "/admin"]], [["prefix", "/jobs"]], false],
    ["each inner one within some outer one", [["exact", "/a/1"], ["verb", "GET"]], [["prefix", "/a"], ["verb", "GET,POST"]], true],
  ])("%s: %j within %j → %s", (_what, inner, outer, expected) => {
    expect(constraintsWithin(keyConstraints(...inner), keyConstraints(...outer))).toBe(expected);
  });

  // Small alphabets, so that constraints and requests meet often.
  const pathSegs = fc.array(fc.constantFrom("a", "b", "1"), { minLength: 0, maxLength: 3 });
  const constraintArb: fc.Arbitrary<[Kind, string]> = fc.oneof(
    pathSegs.map((s): [Kind, string] => ["exact", `/${s.join("/")}`]),
    fc.tuple(pathSegs, fc.boolean()).map(([s, slash]): [Kind, string] => ["prefix", `/${s.join("/")}${slash && s.length > 0 ? "/" : ""}`]),
    fc
      .constantFrom("/a/[0-9]+", "/a.*", "/(a|b)/1", "/[ab1/]*", "/b", "/a/b/1", "/.*/1", "/a/")
      .map((r): [Kind, string] => ["regex", r]),
    fc.subarray(["GET", "HEAD", "POST"], { minLength: 1 }).map((v): [Kind, string] => ["verb", v.join(",")]),
  );
  const listArb = fc.array(constraintArb, { maxLength: 3 }).map((l) => keyConstraints(...l));
  const methodArb = fc.constantFrom("GET", "get", "HEAD", "POST", "DELETE", "");
  const requestPathArb = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(pathSegs, fc.constantFrom("", "/", "?q=1", "#f")).map(([s, tail]) => `/${s.join("/")}${tail}`) },
    { weight: 1, arbitrary: fc.constantFrom("", "a", "a/1", "/a/../b", "/a/%2e%2e/b", "/a/./1") },
  );

  it("is sound: a request the inner constraints allow, the outer ones allow too", () => {
    let meaningful = 0; // within, inner allows, and the lists differ
    fc.assert(
      fc.property(listArb, listArb, methodArb, requestPathArb, (inner, outer, method, path) => {
        if (constraintsWithin(inner, outer) && constraintsAllow(inner, method, path)) {
          expect(constraintsAllow(outer, method, path)).toBe(true);
          if (inner.length > 0 && outer.length > 0 && JSON.stringify(inner) !== JSON.stringify(outer)) meaningful++;
        }
      }),
      { numRuns: 3000 },
    );
    // The property must not hold vacuously.
    expect(meaningful).toBeGreaterThan(20);
  });

  it("a key's constraints are within themselves", () => {
    fc.assert(
      fc.property(listArb, (list) => {
        expect(constraintsWithin(list, list)).toBe(true);
      }),
    );
  });
});

describe("encoded separators", () => {
  it.each(["/jobs/x%2f..%2f..%2fadmin", "/jobs/x%2F..%2Fadmin", "/jobs/x%5c..%5cadmin"])(
    "denies %s under a prefix, since a service may decode it before routing",
    (path) => {
      expect(constraintsAllow(checkConstraints("constraints", [{ type: "prefix", value: "/jobs" }]), "GET", path)).toBe(false);
    },
  );
});
