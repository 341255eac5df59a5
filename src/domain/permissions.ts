// Permission names and the grants (permissions and patterns) policies hold.
//   permission  service.resource.action    billing.invoices.read
//   grant       a permission, or a pattern: billing.invoices.*  billing.*  *

const SEGMENT = "[a-z][a-z0-9_-]{0,62}";
const PERMISSION_NAME = new RegExp(`^(${SEGMENT})\\.(${SEGMENT})\\.(${SEGMENT})$`);
const SERVICE_NAME = new RegExp(`^${SEGMENT}$`);
const RESOURCE_PATTERN = new RegExp(`^(${SEGMENT})\\.(${SEGMENT})\\.\\*$`);
const SERVICE_PATTERN = new RegExp(`^(${SEGMENT})\\.\\*$`);

export const PERMISSION_NAME_RULE =
  "must be service.resource.action: three dot-separated segments of lower-case letters, digits, '_' or '-', each starting with a letter";
export const SERVICE_NAME_RULE = "must be lower-case letters, digits, '_' or '-', starting with a letter, at most 63 characters";
export const GRANT_RULE = `must be a permission (service.resource.action) or a pattern: 'service.*', 'service.resource.*' or '*'`;

export interface Permission {
  name: string;
  service: string;
  resource: string;
}

export type Grant =
  | { kind: "all" }
  | { kind: "service"; service: string }
  | { kind: "resource"; service: string; resource: string }
  | { kind: "exact"; permission: Permission };

export const isServiceName = (s: string): boolean => SERVICE_NAME.test(s);

export function parsePermission(name: string): Permission | undefined {
  const m = PERMISSION_NAME.exec(name);
  return m ? { name, service: m[1]!, resource: m[2]! } : undefined;
}

export function parseGrant(entry: string): Grant | undefined {
  if (entry === "*") return { kind: "all" };
  let m = SERVICE_PATTERN.exec(entry);
  if (m) return { kind: "service", service: m[1]! };
  m = RESOURCE_PATTERN.exec(entry);
  if (m) return { kind: "resource", service: m[1]!, resource: m[2]! };
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
    case "resource":
      return grant.service === permission.service && grant.resource === permission.resource;
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
    case "resource":
      return (
        (wanted.kind === "resource" && wanted.service === held.service && wanted.resource === held.resource) ||
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
