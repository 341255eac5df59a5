// Revoke by possession (design §8, issue #19): whoever holds a key may retire
// it, with no other credential, so a leaked key can be killed by its finder.
//
// What the caller learns is nothing: the outcome is the same whether the key
// was retired now, was retired already, or never existed (a well-formed
// forgery, a wrong secret). Only the pace is limited: per client address
// (ClientRateLimit), then by the argon2 budget every verification shares.
//
// A signed leak report (domain/leak-reports.ts) retires keys the same way,
// without the per-address limit: its signature already says who sent it.
import type { ApiKeys, PossessionProof } from "./api-keys.js";
import type { KeyChecker } from "./check.js";
import type { ClientRateLimit } from "./client-rate-limit.js";
import { ResourceExhaustedError } from "./errors.js";

/** What the operator's log is told of a revocation that happened (never the secret). */
export interface Revocation {
  keyId: string;
  clientIp: string;
  /** Who presented the secret: its finder, or a signed leak report. */
  via: PossessionProof["via"];
  /** The key was the last admin key: `npm run recover` issues a new one. */
  leftNoAdmin: boolean;
}

export class PossessionRevoker {
  constructor(
    private readonly checker: KeyChecker,
    private readonly keys: ApiKeys,
    private readonly limit: ClientRateLimit,
    private readonly onRevoked: (revocation: Revocation) => void = () => {},
  ) {}

  /** Retires the key `presented` proves, if any; throws only when the caller is over its rate limit (or the store is down). */
  async revoke(presented: string, clientIp: string): Promise<void> {
    if (!this.limit.take(clientIp)) throw new ResourceExhaustedError("too many revocations from this address; retry later");
    await this.retireProven(presented, { via: "finder", clientIp });
  }

  /**
   * Retires the key a signed leak report's token proves, if it is live; says
   * whether the token proves a key at all (retired now, before, or expired).
   * Throws when the argon2 budget is spent (or the store is down).
   */
  async retireLeaked(token: string, clientIp: string, detail: string): Promise<boolean> {
    return this.retireProven(token, { via: "leak_report", clientIp, detail });
  }

  private async retireProven(presented: string, proof: PossessionProof): Promise<boolean> {
    // The same proof CheckKey asks for: the cache, the checksum, then argon2 within its budget.
    const keyId = await this.checker.provenKeyId(presented);
    if (keyId === undefined) return false;
    const { retired, leftNoAdmin } = await this.keys.retireByPossession(keyId, proof);
    if (retired) this.onRevoked({ keyId, clientIp: proof.clientIp, via: proof.via, leftNoAdmin });
    return true;
  }
}
