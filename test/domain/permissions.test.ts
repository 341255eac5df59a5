// Permission names, grant patterns, what a policy grants, and the no-escalation rule.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  entriesGrant,
  grantCovers,
  grantMatches,
  isServiceName,
  parseGrant,
  parseGrants,
  parsePermission,
  uncoveredEntries,
  type Grant,
  type Permission,
} from "../../src/domain/grants.js";

const segment63 = `a${"b".repeat(62)}`;

/** A name that must parse; fails the test otherwise. */
const perm = (name: string): Permission => {
  const p = parsePermission(name);
  if (!p) throw new Error(`test setup: ${name} is not a permission`);
  return p;
};
const grant = (entry: string): Grant => {
  const g = parseGrant(entry);
  if (!g) throw new Error(`test setup: ${entry} is not a grant`);
  return g;
};

describe("parsePermission", () => {
  it.each([
    ["billing.invoices.read", "billing"],
    ["a.b.c", "a"],
    ["svc-1.res_2.act-3", "svc-1"],
    ["keyward.api_keys.write", "keyward"],
    [`${segment63}.${segment63}.${segment63}`, segment63],
  ])("accepts %s", (name, service) => {
    expect(parsePermission(name)).toEqual({ name, service });
  });

  it.each([
    ["empty", ""],
    ["upper-case service", "Billing.invoices.read"],
    ["upper-case resource", "billing.Invoices.read"],
    ["upper-case action", "billing.invoices.READ"],
    ["one segment", "billing"],
    ["six segments", "billing.invoices.read.all.of.them"],
    ["empty first segment", ".invoices.read"],
    ["empty middle segment", "billing..read"],
    ["empty last segment", "billing.invoices."],
    ["leading digit in the service", "1billing.invoices.read"],
    ["leading digit in the resource", "billing.2invoices.read"],
    ["leading digit in the action", "billing.invoices.3read"],
    ["leading underscore", "_billing.invoices.read"],
    ["leading hyphen", "billing.-invoices.read"],
    ["a star in the middle", "billing.*.read"],
    ["a service pattern", "billing.*"],
    ["a resource pattern", "billing.invoices.*"],
    ["the all pattern", "*"],
    ["a space", "billing.invoices.re ad"],
    ["a leading space", " billing.invoices.read"],
    ["a trailing newline", "billing.invoices.read\n"],
    ["a non-ASCII letter", "billing.invoices.réad"],
    ["a slash", "billing/invoices.read"],
    ["a 64-character segment", `a${"b".repeat(63)}.invoices.read`],
  ])("refuses %s (%j)", (_what, name) => {
    expect(parsePermission(name)).toBeUndefined();
  });
});

describe("parseGrant", () => {
  it.each<[string, Grant]>([
    ["*", { kind: "all" }],
    ["billing.*", { kind: "service", service: "billing" }],
    ["billing.invoices.*", { kind: "prefix", service: "billing", prefix: "billing.invoices" }],
    ["billing.invoices.read", { kind: "exact", permission: { name: "billing.invoices.read", service: "billing" } }],
  ])("parses %s", (entry, expected) => {
    expect(parseGrant(entry)).toEqual(expected);
  });

  it.each([
    "",
    "**",
    "*.*",
    "* ",
    "billing",
    "billing.",
    "Billing.*",
    "billing.Invoices.*",
    "billing.*.*",
    "billing.*.read",
    "*.invoices.read",
    "*.invoices.*",
    "a.b.c.d.e.*",
    "billing.inv*",
    "1billing.*",
    "billing..*",
  ])("refuses %j", (entry) => {
    expect(parseGrant(entry)).toBeUndefined();
  });

  it("parseGrants drops entries that no longer parse (they grant nothing)", () => {
    expect(parseGrants(["billing.*", "Bad.Entry", "ops.jobs.run"])).toEqual([grant("billing.*"), grant("ops.jobs.run")]);
  });

  it("isServiceName follows the segment rule", () => {
    expect(isServiceName("billing")).toBe(true);
    expect(isServiceName(segment63)).toBe(true);
    expect(isServiceName(`${segment63}c`)).toBe(false);
    expect(isServiceName("Billing")).toBe(false);
    expect(isServiceName("billing.x")).toBe(false);
    expect(isServiceName("")).toBe(false);
  });
});

describe("grantMatches", () => {
  it.each([
    ["*", "billing.invoices.read", true],
    ["*", "keyward.policies.write", true],
    ["billing.*", "billing.invoices.read", true],
    ["billing.*", "billing.reports.export", true],
    ["billing.*", "billing2.invoices.read", false],
    ["billing.*", "ops.billing.read", false],
    ["billing.invoices.*", "billing.invoices.read", true],
    ["billing.invoices.*", "billing.invoices.write", true],
    ["billing.invoices.*", "billing.reports.read", false],
    ["billing.invoices.*", "billing.invoices2.read", false],
    ["billing.invoices.*", "ops.invoices.read", false],
    ["billing.invoices.read", "billing.invoices.read", true],
    ["billing.invoices.read", "billing.invoices.write", false],
    ["billing.invoices.read", "billing.invoices.readx", false],
  ] as const)("%s matches %s: %s", (entry, permission, expected) => {
    expect(grantMatches(grant(entry), perm(permission))).toBe(expected);
  });
});

describe("entriesGrant", () => {
  const read = perm("billing.invoices.read");

  it.each([
    [["billing.invoices.read"], true, true],
    [["billing.invoices.read"], false, true],
    [["billing.invoices.*"], true, true],
    [["billing.invoices.*"], false, false],
    [["billing.*"], true, true],
    [["billing.*"], false, false],
    [["*"], true, true],
    [["*"], false, false],
    [["billing.invoices.*", "billing.invoices.read"], false, true],
    [["billing.invoices.write", "billing.reports.*", "ops.*"], true, false],
    [[], true, false],
  ] as const)("%j grants billing.invoices.read (registered: %s): %s", (entries, registered, expected) => {
    expect(entriesGrant(entries.map(grant), read, registered)).toBe(expected);
  });
});

describe("grantCovers / uncoveredEntries (no escalation)", () => {
  const cases: [held: string[], wanted: string, covered: boolean][] = [
    [["keyward.*", "keyward.policies.write"], "keyward.api_keys.read", true],
    [["keyward.*", "keyward.policies.write"], "keyward.policies.*", true],
    [["keyward.*", "keyward.policies.write"], "keyward.*", true],
    [["keyward.*", "keyward.policies.write"], "billing.invoices.read", false],
    [["keyward.*", "keyward.policies.write"], "billing.invoices.*", false],
    [["keyward.*", "keyward.policies.write"], "billing.*", false],
    [["keyward.*", "keyward.policies.write"], "*", false],
    [["*"], "*", true],
    [["*"], "billing.*", true],
    [["*"], "billing.invoices.*", true],
    [["*"], "billing.invoices.read", true],
    [["*"], "keyward.policies.write", true],
    [["billing.*"], "billing.*", true],
    [["billing.*"], "billing.invoices.*", true],
    [["billing.*"], "billing.invoices.read", true],
    [["billing.*"], "*", false],
    [["billing.*"], "billing2.x.y", false],
    [["billing.*"], "billing2.*", false],
    [["billing.*"], "bill.*", false],
    [["billing.invoices.*"], "billing.invoices.read", true],
    [["billing.invoices.*"], "billing.invoices.*", true],
    [["billing.invoices.*"], "billing.*", false],
    [["billing.invoices.*"], "billing.reports.*", false],
    [["billing.invoices.*"], "billing.invoices2.read", false],
    [["billing.invoices.*"], "*", false],
    [["billing.invoices.read"], "billing.invoices.read", true],
    [["billing.invoices.read"], "billing.invoices.write", false],
    [["billing.invoices.read"], "billing.invoices.*", false],
    [["billing.invoices.read"], "billing.*", false],
    [["billing.invoices.read", "billing.invoices.write"], "billing.invoices.*", false],
    [[], "billing.invoices.read", false],
    [[], "*", false],
  ];

  it.each(cases)("held %j covers %s: %s", (held, wanted, covered) => {
    const heldGrants = held.map(grant);
    expect(heldGrants.some((h) => grantCovers(h, grant(wanted)))).toBe(covered);
    expect(uncoveredEntries(heldGrants, [wanted])).toEqual(covered ? [] : [wanted]);
  });

  it("lists the uncovered entries in the order they were asked for", () => {
    expect(uncoveredEntries([grant("billing.*")], ["ops.jobs.run", "billing.a.b", "*", "billing.c.*", "ops.*"])).toEqual([
      "ops.jobs.run",
      "*",
      "ops.*",
    ]);
  });

  it.each(["", "Bad.Entry", "billing.*.read", "billing"])("treats the malformed entry %j as uncovered, even under *", (entry) => {
    expect(uncoveredEntries([grant("*")], [entry])).toEqual([entry]);
  });

  // Small alphabets so that services and resources collide often.
  const service = fc.constantFrom("a", "b", "ab");
  const resource = fc.constantFrom("x", "y");
  const action = fc.constantFrom("r", "w");
  const permissionArb = fc.tuple(service, resource, action).map(([s, r, a]) => perm(`${s}.${r}.${a}`));
  const grantArb: fc.Arbitrary<Grant> = fc.oneof(
    fc.constant(grant("*")),
    service.map((s) => grant(`${s}.*`)),
    fc.tuple(service, resource).map(([s, r]) => grant(`${s}.${r}.*`)),
    permissionArb.map((p) => grant(p.name)),
  );

  it("a held grant that covers a wanted one matches every permission the wanted one matches (property)", () => {
    fc.assert(
      fc.property(grantArb, grantArb, permissionArb, (held, wanted, p) => {
        if (grantCovers(held, wanted) && grantMatches(wanted, p)) expect(grantMatches(held, p)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it("every grant covers itself (property)", () => {
    fc.assert(
      fc.property(grantArb, (g) => {
        expect(grantCovers(g, g)).toBe(true);
      }),
    );
  });

  it("a policy whose entries are all covered grants nothing registered beyond the holder's (property)", () => {
    fc.assert(
      fc.property(fc.array(grantArb, { maxLength: 3 }), fc.array(grantArb, { maxLength: 3 }), permissionArb, (held, wanted, p) => {
        if (wanted.every((w) => held.some((h) => grantCovers(h, w))) && entriesGrant(wanted, p, true)) {
          expect(entriesGrant(held, p, true)).toBe(true);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
