// The verdict on a presented key (design §4 CheckKey). Used by the CheckKey RPC
// and by the authentication of Keyward's own API, so both judge keys alike.
//
// Hot path: parse and checksum without I/O; then, once a key was verified,
// the verification cache answers without hashing, argon2 or I/O, and only the
// per-request rules (state, expiry, subnets, constraints, permissions) run.
import type { KeyForCheck } from "../storage/records.js";
import type { Store } from "../storage/store.js";
import { constraintsAllow } from "./constraints.js";
import { InvalidArgumentError } from "./errors.js";
import { keyLength, parseKey, type ParsedKey } from "./key-format.js";
import { PERMISSION_NAME_RULE, entriesGrant, parsePermission, type Permission } from "./grants.js";
import type { RegisteredPermissionCache } from "./registered-permission-cache.js";
import type { SecretHasher } from "./secret-hasher.js";
import { subnetsAllow } from "./subnets.js";
import { checkedKey, type VerificationCache, type VerifiedKey } from "./verification-cache.js";
import type { VerifyLimiter } from "./verify-limiter.js";
import { effectiveLimits, type UsageLimiter, type UsageOutcome } from "./usage-limits.js";

export interface CheckRequest {
  key: string;
  /** All are required; empty = authenticate only. */
  permissions: readonly string[];
  method: string;
  path: string;
  clientIp: string;
  /** Judge everything but the key's path/verb constraints: the operation judges them (principal.ts withinConstraints). */
  skipConstraints?: boolean;
  /** Credits the check spends from a key with credits; undefined = 1. */
  cost?: number;
}

/** What a key with usage limits has left, told with its verdict. */
export interface UsageFacts {
  remaining: number;
  /** When `remaining` next grows (ms since the epoch); null = never. */
  resetTimeMs: number | null;
}

/** Denials after the secret was verified: the key is known, so its id may be reported. */
export type AuthenticatedDenial = "EXPIRED" | "RETIRED" | "SUBNET_DENIED" | "CONSTRAINT_DENIED" | "PERMISSION_DENIED";

export type Verdict =
  | {
      code: "VALID";
      key: VerifiedKey["key"];
      policy: VerifiedKey["policy"];
      grants: VerifiedKey["grants"];
      /** Non-null when the presented secret is the one a rotation replaced (valid until then). */
      secretExpireTime: VerifiedKey["secretExpireTime"];
      /** Set for a key with usage limits only. */
      usage?: UsageFacts;
    }
  | { code: "MALFORMED" | "NOT_FOUND" }
  | { code: Exclude<AuthenticatedDenial, "PERMISSION_DENIED">; keyId: string }
  /** `missing`: the first requested permission the key's policy does not grant. */
  | { code: "PERMISSION_DENIED"; keyId: string; missing: string }
  | { code: "RATE_LIMITED" | "USAGE_EXCEEDED"; keyId: string; usage: UsageFacts };

// Services ask for the same few permissions on every request: remember how
// they parse (bounded; names are at most 200 characters, check.proto).
const parsedNames = new Map<string, Permission>();
const MAX_PARSED_NAMES = 10_000;

/** Parses the requested permissions (their count and length are bounded in check.proto): a malformed one is a bad request, not a denial. */
export function parseRequestedPermissions(names: readonly string[]): Permission[] {
  return names.map((name, i) => {
    let parsed = parsedNames.get(name);
    if (!parsed) {
      parsed = parsePermission(name);
      if (!parsed) throw new InvalidArgumentError(`permissions[${i}]`, `"${name}" ${PERMISSION_NAME_RULE}`);
      if (parsedNames.size >= MAX_PARSED_NAMES) parsedNames.clear();
      parsedNames.set(name, parsed);
    }
    return parsed;
  });
}

export interface CheckerDeps {
  store: Store;
  hasher: SecretHasher;
  keyPrefix: string;
  now: () => Date;
  cache: VerificationCache;
  verifyLimiter: VerifyLimiter;
  registered: RegisteredPermissionCache;
  /** Told of every VALID verdict (last-use tracking, metrics). */
  onValid?: (keyId: string, at: Date) => void;
  /** Enforces rate limits and credits; without it, limits are not enforced (tests of other rules). */
  usage?: UsageLimiter;
}

export class KeyChecker {
  /** Verifications under way, by digest: concurrent checks of one key share one. */
  private readonly inFlight = new Map<string, Promise<VerifiedKey | undefined>>();

  private readonly keyLength: number;

  constructor(private readonly deps: CheckerDeps) {
    this.keyLength = keyLength(deps.keyPrefix);
  }

  /** The checker's clock: what its verdicts' times (reset times, expiry) are read against. */
  now(): Date {
    return this.deps.now();
  }

  /** `now`: the check's time, when the caller needs it too (to count the verdict); read once, not twice. */
  check(request: CheckRequest, now: Date = this.deps.now()): Promise<Verdict> {
    try {
      const verdict = this.decide(request, now);
      return verdict instanceof Promise ? verdict : Promise.resolve(verdict);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The verdict at once when it needs no I/O (a warm key, a malformed one, a
   * remembered failure), else a promise of it. Throws at once on a malformed
   * permission name. A warm check runs without a single await: every step is
   * synchronous until something must be read from the store.
   */
  decide(request: CheckRequest, now: Date = this.deps.now()): Verdict | Promise<Verdict> {
    const requested = parseRequestedPermissions(request.permissions);
    const proof = this.prove(request.key, now);
    if (proof === "MALFORMED") return { code: "MALFORMED" };
    // A wrong secret reads as an unknown key: the caller learns nothing about the id.
    if (proof === "NOT_FOUND") return { code: "NOT_FOUND" };
    if (proof instanceof Promise) return this.checkSlowly(proof, requested, request, now);
    return this.judge(proof, requested, request, now) ?? this.judgeWithRegistry(proof, requested, request, now);
  }

  /**
   * The id of the key the presented credentials prove — its current secret, or
   * one a rotation replaced while its overlap lasts — whatever the key's state
   * or expiry; undefined when they prove none. The same proof as check()
   * (cache, format and checksum, then the store and argon2 within the budget),
   * but nothing is judged, spent or recorded as a use (revoke by possession).
   */
  async provenKeyId(presented: string): Promise<string | undefined> {
    const proof = this.prove(presented, this.deps.now());
    if (typeof proof === "string") return undefined;
    return (await proof)?.key.id;
  }

  /**
   * What the presented key proves: its verified record at once when the cache
   * holds it, a promise of it (undefined: no such key or a wrong secret) when
   * it must be read and hashed, or why it proves nothing without any I/O.
   */
  private prove(presented: string, now: Date): VerifiedKey | "MALFORMED" | "NOT_FOUND" | Promise<VerifiedKey | undefined> {
    // Every key has the same length: anything else is refused before it is hashed.
    if (presented.length !== this.keyLength) return "MALFORMED";
    const { cache } = this.deps;
    const digest = cache.digest(presented);
    const cached = cache.lookup(digest);
    if (cached === null) return "NOT_FOUND";
    // Cached means verified, so well-formed: the format is checked on a miss only.
    if (cached && (cached.secretExpireTime === null || cached.secretExpireTime > now)) return cached;
    // Format and checksum before any I/O: a forged or mistyped key costs none.
    const parsed = parseKey(this.deps.keyPrefix, presented);
    if (!parsed) return "MALFORMED";
    return this.verify(digest, parsed, now);
  }

  private async checkSlowly(proof: Promise<VerifiedKey | undefined>, requested: readonly Permission[], request: CheckRequest, now: Date): Promise<Verdict> {
    const verified = await proof;
    if (!verified) return { code: "NOT_FOUND" };
    return this.judge(verified, requested, request, now) ?? (await this.judgeWithRegistry(verified, requested, request, now));
  }

  /** The key the presented credentials prove, from the store (one verification per key at a time). */
  private verify(digest: string, parsed: ParsedKey, now: Date): Promise<VerifiedKey | undefined> {
    const { cache } = this.deps;
    let pending = this.inFlight.get(digest);
    if (!pending) {
      const generation = cache.generation;
      pending = this.load(parsed, now)
        .then((verified) => {
          cache.store(digest, verified, generation);
          return verified;
        })
        .finally(() => this.inFlight.delete(digest));
      this.inFlight.set(digest, pending);
    }
    return pending;
  }

  private async load(parsed: ParsedKey, now: Date): Promise<VerifiedKey | undefined> {
    const found = await this.deps.store.apiKeys.findForCheck(parsed.id);
    if (!found) return undefined;
    let which: "current" | "previous" | undefined;
    await this.deps.verifyLimiter.run(found.key.id, async () => {
      which = await this.matchingSecret(found, parsed.secret, now);
      return which !== undefined;
    });
    if (!which) return undefined;
    // Keys on one version of a policy share its record and grants (issue #16).
    const { policy, grants } = this.deps.cache.sharedPolicy(found.policy);
    const key = checkedKey(found.key, policy.id);
    return {
      key,
      policy,
      grants,
      secretExpireTime: which === "previous" ? found.previousSecret!.expireTime : null,
      limits: effectiveLimits(key, policy),
    };
  }

  /** The current secret, or the one replaced by a rotation while its overlap lasts. */
  private async matchingSecret(found: KeyForCheck, secret: string, now: Date): Promise<"current" | "previous" | undefined> {
    const { hasher } = this.deps;
    if (await hasher.verify(found.secretHash, secret)) return "current";
    const previous = found.previousSecret;
    if (previous !== null && previous.expireTime > now && (await hasher.verify(previous.hash, secret))) return "previous";
    return undefined;
  }

  /**
   * The verdict for a verified key, or undefined when it hangs on whether a
   * permission is registered and `registered` cannot say without I/O; a
   * promise of it when the key's credits need a new lease.
   */
  private judge(
    verified: VerifiedKey,
    requested: readonly Permission[],
    request: CheckRequest,
    now: Date,
    registered: (name: string) => boolean | undefined = (name) => this.deps.registered.known(name),
  ): Verdict | Promise<Verdict> | undefined {
    const { key, policy } = verified;
    const keyId = key.id;
    if (key.state === "retired") return { code: "RETIRED", keyId };
    if (key.expireTimeMs <= now.getTime()) return { code: "EXPIRED", keyId };
    // A scoped key checked without the request's context is denied (fail closed).
    if (!subnetsAllow(key.allowedSubnets, request.clientIp)) return { code: "SUBNET_DENIED", keyId };
    if (!request.skipConstraints && !constraintsAllow(key.constraints, request.method, request.path)) {
      return { code: "CONSTRAINT_DENIED", keyId };
    }
    for (const permission of requested) {
      // Exact grants first; a pattern grants only what is registered now.
      if (entriesGrant(verified.grants, permission, false)) continue;
      if (!entriesGrant(verified.grants, permission, true)) return { code: "PERMISSION_DENIED", keyId, missing: permission.name };
      const isRegistered = registered(permission.name);
      if (isRegistered === undefined) return undefined;
      if (!isRegistered) return { code: "PERMISSION_DENIED", keyId, missing: permission.name };
    }
    const valid: Extract<Verdict, { code: "VALID" }> = { code: "VALID", key, policy, grants: verified.grants, secretExpireTime: verified.secretExpireTime };
    // Keys without limits (the usual case) pay this one test and nothing else.
    if (verified.limits === undefined || this.deps.usage === undefined) {
      this.deps.onValid?.(keyId, now);
      return valid;
    }
    const outcome = this.deps.usage.admit(keyId, verified.limits, request.cost, now);
    return outcome instanceof Promise ? outcome.then((o) => this.limited(valid, o, now)) : this.limited(valid, outcome, now);
  }

  /** The verdict once the key's usage limits had their say. */
  private limited(valid: Extract<Verdict, { code: "VALID" }>, outcome: UsageOutcome, now: Date): Verdict {
    // The outcome is the usage facts (its extra `code` is never read): no copy per check.
    if (outcome.code !== "VALID") return { code: outcome.code, keyId: valid.key.id, usage: outcome };
    this.deps.onValid?.(valid.key.id, now);
    valid.usage = outcome;
    return valid;
  }

  /** judge(), once the registrations it needs are read from the store. */
  private async judgeWithRegistry(verified: VerifiedKey, requested: readonly Permission[], request: CheckRequest, now: Date): Promise<Verdict> {
    const names = requested.filter((p) => !entriesGrant(verified.grants, p, false)).map((p) => p.name);
    const registered = new Set<string>();
    for (const name of names) if (await this.deps.registered.has(name)) registered.add(name);
    return this.judge(verified, requested, request, now, (name) => registered.has(name))!;
  }
}
