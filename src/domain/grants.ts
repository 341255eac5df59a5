// Permission names and the grants (permissions and patterns) policies hold.
//   permission  two to five dot-separated segments; the first names the owning service
//               orders.read   billing.invoices.read   billing.invoices.lines.read
//   grant       a permission, or a pattern over everything below a prefix:
//               billing.*  (all of billing)   billing.invoices.*  (all under billing.invoices)   *  (everything)

const SEGMENT = "[a-z][a-z0-9_-]{0,62}";
const MIN_SEGMENTS = 2;
const MAX_SEGMENTS = 5;
const PERMISSION_NAME = new RegExp(`^${SEGMENT}(?:\\.${SEGMENT}){${MIN_SEGMENTS - 1},${MAX_SEGMENTS - 1}}$`);
const SERVICE_NAME = new RegExp(`^${SEGMENT}$`);
// A pattern's prefix is shorter than the longest name, so it always covers something.
const PATTERN = new RegExp(`^(${SEGMENT}(?:\\.${SEGMENT}){0,${MAX_SEGMENTS - 2}})\\.\\*$`);

export const PERMISSION_NAME_RULE =
  "must be two to five dot-separated segments (service.action, service.resource.action, …) of lower-case letters, digits, '_' or '-', each starting with a letter; the first names the service";
export const SERVICE_NAME_RULE = "must be lower-case letters, digits, '_' or '-', starting with a letter, at most 63 characters";
export const GRANT_RULE = `must be a permission (two to five segments, e.g. 'orders.read' or 'billing.invoices.read') or a pattern: 'service.*', 'service.resource.*' (any prefix followed by '.*') or '*'`;

export interface Permission {
  name: string;
  service: string;
}

export type Grant =
  | { kind: "all" }
  | { kind: "service"; service: string }
  /** Everything strictly below `prefix` (two or more segments, e.g. billing.invoices). */
  | { kind: "prefix"; service: string; prefix: string }
  | { kind: "exact"; permission: Permission };

export const isServiceName = (s: string): boolean => SERVICE_NAME.test(s);

const serviceOfName = (name: string): string => name.split(".", 1)[0]!;

export function parsePermission(name: string): Permission | undefined {
  return PERMISSION_NAME.test(name) ? { name, service: serviceOfName(name) } : undefined;
}

export function parseGrant(entry: string): Grant | undefined {
  if (entry === "*") return { kind: "all" };
  const m = PATTERN.exec(entry);
  if (m) {
    const prefix = m[1]!;
    const service = serviceOfName(prefix);
    return prefix === service ? { kind: "service", service } : { kind: "prefix", service, prefix };
  }
  const permission = parsePermission(entry);
  return permission && { kind: "exact", permission };
}

/** The service a grant is about, if any (`*` is about none). */
export const serviceOf = (grant: Grant): string | undefined =>
  grant.kind === "all" ? undefined : grant.kind === "exact" ? grant.permission.service : grant.service;

/** Whether the pattern or permission `grant` matches `permission` by name alone. */
export function grantMatches(grant: Grant, permission: Permission): boolean {
  switch (grant.kind) {
    case "all":
      return true;
    case "service":
      return grant.service === permission.service;
    case "prefix":
      return permission.name.startsWith(`${grant.prefix}.`);
    case "exact":
      return grant.permission.name === permission.name;
  }
}

/**
 * Whether a policy holding `entries` grants `permission`. An exact entry
 * grants its permission even after its service stopped registering it (so a
 * rolling deploy keeps working); a pattern grants only what its service
 * registers now, as design §2 defines patterns.
 */
export function entriesGrant(entries: readonly Grant[], permission: Permission, registered: boolean): boolean {
  return entries.some((g) => (g.kind === "exact" ? g.permission.name === permission.name : registered && grantMatches(g, permission)));
}

/** Whether `held` covers everything `wanted` could ever grant (for the no-escalation rule). */
export function grantCovers(held: Grant, wanted: Grant): boolean {
  switch (held.kind) {
    case "all":
      return true;
    case "service":
      return wanted.kind !== "all" && serviceOf(wanted) === held.service;
    case "prefix":
      return (
        (wanted.kind === "prefix" && (wanted.prefix === held.prefix || wanted.prefix.startsWith(`${held.prefix}.`))) ||
        (wanted.kind === "exact" && grantMatches(held, wanted.permission))
      );
    case "exact":
      return wanted.kind === "exact" && wanted.permission.name === held.permission.name;
  }
}

/** The wanted entries that no held entry covers. */
export function uncoveredEntries(held: readonly Grant[], wanted: readonly string[]): string[] {
  return wanted.filter((entry) => {
    const grant = parseGrant(entry);
    return grant === undefined || !held.some((h) => grantCovers(h, grant));
  });
}

/** Parses stored entries; an entry that no longer parses grants nothing (fail closed). */
export const parseGrants = (entries: readonly string[]): Grant[] =>
  entries.flatMap((e) => {
    const g = parseGrant(e);
    return g ? [g] : [];
  });
