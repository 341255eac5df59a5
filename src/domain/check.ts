// The verdict on a presented key (design §4 CheckKey). Used by the CheckKey RPC
// and by the authentication of Keyward's own API, so both judge keys alike.
import type { ApiKeyRecord, KeyForCheck, PolicyRecord } from "../storage/records.js";
import type { Store } from "../storage/store.js";
import { constraintsAllow } from "./constraints.js";
import { InvalidArgumentError } from "./errors.js";
import { parseKey } from "./key-format.js";
import { Limits } from "./limits.js";
import { PERMISSION_NAME_RULE, entriesGrant, parseGrants, parsePermission, type Permission } from "./permissions.js";
import type { SecretHasher } from "./secret-hasher.js";
import { subnetsAllow } from "./subnets.js";
import { checkCount } from "./validation.js";

export interface CheckRequest {
  key: string;
  /** All are required; empty = authenticate only. */
  permissions: readonly string[];
  method: string;
  path: string;
  clientIp: string;
  /** Judge everything but the key's path/verb constraints (Keyward's own self-rotation). */
  skipConstraints?: boolean;
}

/** Denials after the secret was verified: the key is known, so its id may be reported. */
export type AuthenticatedDenial = "EXPIRED" | "RETIRED" | "SUBNET_DENIED" | "CONSTRAINT_DENIED" | "PERMISSION_DENIED";

export type Verdict =
  | { code: "VALID"; key: ApiKeyRecord; policy: PolicyRecord }
  | { code: "MALFORMED" | "NOT_FOUND" }
  | { code: AuthenticatedDenial; keyId: string };

/** Validates the requested permissions: a malformed one is a bad request, not a denial. */
export function parseRequestedPermissions(names: readonly string[]): Permission[] {
  checkCount("permissions", names, Limits.permissionsPerCheck);
  return names.map((name, i) => {
    const parsed = parsePermission(name);
    if (!parsed) throw new InvalidArgumentError(`permissions[${i}]`, `"${name}" ${PERMISSION_NAME_RULE}`);
    return parsed;
  });
}

export class KeyChecker {
  constructor(
    private readonly store: Store,
    private readonly hasher: SecretHasher,
    private readonly keyPrefix: string,
    private readonly now: () => Date,
    /** Told of every VALID verdict (last-use tracking). */
    private readonly onValid: (keyId: string, at: Date) => void = () => {},
  ) {}

  async check(request: CheckRequest): Promise<Verdict> {
    const requested = parseRequestedPermissions(request.permissions);
    // Format and checksum first: a forged or mistyped key costs no I/O.
    const parsed = parseKey(this.keyPrefix, request.key);
    if (!parsed) return { code: "MALFORMED" };
    const found = await this.store.apiKeys.findForCheck(parsed.id);
    const now = this.now();
    // A wrong secret reads as an unknown key: the caller learns nothing about the id.
    if (!found || !(await this.secretMatches(found, parsed.secret, now))) return { code: "NOT_FOUND" };
    const { key, policy } = found;
    const keyId = key.id;
    if (key.state === "retired") return { code: "RETIRED", keyId };
    if (key.expireTime.getTime() <= now.getTime()) return { code: "EXPIRED", keyId };
    // A scoped key checked without the request's context is denied (fail closed).
    if (!subnetsAllow(key.allowedSubnets, request.clientIp)) return { code: "SUBNET_DENIED", keyId };
    if (!request.skipConstraints && !constraintsAllow(key.constraints, request.method, request.path)) {
      return { code: "CONSTRAINT_DENIED", keyId };
    }
    if (!(await this.grantsAll(policy.permissions, requested))) return { code: "PERMISSION_DENIED", keyId };
    this.onValid(keyId, now);
    return { code: "VALID", key, policy };
  }

  /** The current secret, or the one replaced by a rotation while its overlap lasts. */
  private async secretMatches(found: KeyForCheck, secret: string, now: Date): Promise<boolean> {
    if (await this.hasher.verify(found.secretHash, secret)) return true;
    const previous = found.previousSecret;
    return previous !== null && previous.expireTime > now && (await this.hasher.verify(previous.hash, secret));
  }

  private async grantsAll(entries: readonly string[], requested: readonly Permission[]): Promise<boolean> {
    if (requested.length === 0) return true;
    const grants = parseGrants(entries);
    // Only permissions not granted by name need the registry (patterns grant registered ones only).
    const byPattern = requested.filter((p) => !entriesGrant(grants, p, false)).map((p) => p.name);
    const registered = await this.store.permissions.registeredAmong(byPattern);
    return requested.every((p) => entriesGrant(grants, p, registered.has(p.name)));
  }
}
