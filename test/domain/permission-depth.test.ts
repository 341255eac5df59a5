// Issue #17: permission names of two to five segments, and patterns over any depth below a prefix.
import { describe, expect, it } from "vitest";
import { entriesGrant, grantCovers, parseGrant, parsePermission, uncoveredEntries, type Grant, type Permission } from "../../src/domain/grants.js";

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

describe("permission names of two to five segments", () => {
  it.each([
    ["orders.read", "orders"],
    ["billing.invoices.read", "billing"],
    ["billing.invoices.lines.read", "billing"],
    ["a.b.c.d.e", "a"],
  ])("accepts %s, owned by %s", (name, service) => {
    expect(parsePermission(name)).toEqual({ name, service });
  });

  it.each(["orders", "a.b.c.d.e.f", "orders.", ".read", "orders..read", "orders.*", "Orders.read"])("refuses %j", (name) => {
    expect(parsePermission(name)).toBeUndefined();
  });
});

describe("patterns cover any depth below their prefix", () => {
  const grants = (entries: string[]) => entries.map(grant);
  it.each<[string, string, boolean]>([
    ["billing.*", "billing.read", true],
    ["billing.*", "billing.invoices.read", true],
    ["billing.*", "billing.invoices.lines.read", true],
    ["billing.*", "billingx.read", false],
    ["billing.invoices.*", "billing.invoices.read", true],
    ["billing.invoices.*", "billing.invoices.lines.read", true],
    ["billing.invoices.*", "billing.invoices", false],
    ["billing.invoices.*", "billing.read", false],
    ["billing.invoices.*", "billing.invoicesx.read", false],
    ["billing.invoices.lines.*", "billing.invoices.lines.read", true],
    ["billing.invoices.lines.*", "billing.invoices.read", false],
    ["*", "orders.read", true],
  ])("%s grants %s: %s", (entry, name, expected) => {
    expect(entriesGrant(grants([entry]), perm(name), true)).toBe(expected);
  });

  it.each(["billing.a.b.c.*", "a.b.c.d.*"])("accepts the deepest pattern %s", (entry) => {
    expect(parseGrant(entry)).toBeDefined();
  });
  it.each(["a.b.c.d.e.*", "billing.*.read", "billing.*.*", "*.read"])("refuses %j", (entry) => {
    expect(parseGrant(entry)).toBeUndefined();
  });

  it("no escalation: a prefix covers the deeper prefixes and permissions under it, and nothing beside it", () => {
    expect(grantCovers(grant("billing.invoices.*"), grant("billing.invoices.lines.*"))).toBe(true);
    expect(grantCovers(grant("billing.invoices.*"), grant("billing.invoices.lines.read"))).toBe(true);
    expect(grantCovers(grant("billing.invoices.lines.*"), grant("billing.invoices.*"))).toBe(false);
    expect(grantCovers(grant("billing.invoices.*"), grant("billing.*"))).toBe(false);
    expect(grantCovers(grant("billing.*"), grant("billing.invoices.lines.*"))).toBe(true);
    expect(grantCovers(grant("billing.*"), grant("billing.read"))).toBe(true);
    expect(uncoveredEntries([grant("orders.*")], ["orders.read", "orders.items.*", "billing.read"])).toEqual(["billing.read"]);
  });
});
