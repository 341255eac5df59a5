// Leak reports (design §8, issue #19): a secret scanner (GitHub's
// secret-scanning partner program) that found Keyward keys in public code
// reports them; each token that proves a key retires it at once, through the
// same path as revoke by possession, and the answer labels every token for the
// scanner: true_positive (a real Keyward secret) or false_positive.
// The report's signature is checked (`keys`) before anything else is done
// with it.
import { createHash } from "node:crypto";
import type { LeakReportKeys } from "./leak-report-signature.js";
import type { PossessionRevoker } from "./revoke-by-possession.js";

/** The most tokens one report may carry: each may cost an argon2 verification. */
export const MAX_LEAK_REPORT_TOKENS = 100;

/** One match in a report: the token found, the scanner's name for its pattern, where it was found. */
export interface LeakedToken {
  token: string;
  type: string;
  url: string;
  source: string;
}

export type LeakLabel = "true_positive" | "false_positive";

/** The scanner's feedback on one token: never the token, only its SHA-256. */
export interface LeakFeedback {
  tokenHash: string;
  tokenType: string;
  label: LeakLabel;
}

// What of a report's URL and source the audit entry keeps: enough to find the leak, bounded.
const MAX_SOURCE_LENGTH = 64;
const MAX_URL_LENGTH = 800;
const MAX_SIGNER_LENGTH = 128;
const CONTROL = /[\u0000-\u001f\u007f]/g;

const bounded = (text: string, max: number): string => {
  const clean = text.replace(CONTROL, "?");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
};

/**
 * The audit entry's detail for a retirement: who signed the report, and where
 * the token was found. Never the token, even should the URL contain it.
 */
export function leakDetail(signerKeyId: string, leaked: LeakedToken): string {
  const url = leaked.token === "" ? leaked.url : leaked.url.split(leaked.token).join("[token]");
  return `leak report signed by ${bounded(signerKeyId, MAX_SIGNER_LENGTH)}; source: ${bounded(leaked.source, MAX_SOURCE_LENGTH)}; url: ${bounded(url, MAX_URL_LENGTH)}`;
}

export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

export class LeakReports {
  constructor(
    /** Whose signatures are trusted. */
    readonly keys: LeakReportKeys,
    private readonly revoker: PossessionRevoker,
  ) {}

  /**
   * Retires every live key a token of the (signed) report proves and labels
   * each token, in the report's order. A token that proves a key is a
   * true_positive whether this report retired it or it was retired or expired
   * before: it is a real Keyward secret either way (a secret a rotation
   * replaced counts during its overlap only, and retiring a key drops it). Tokens are judged one at a
   * time, so a report holds at most one slot of the argon2 budget; a token
   * that is not even well-formed (prefix, length, checksum) costs no hashing.
   * Throws when the budget is spent: the scanner resends, and what was retired
   * stays retired.
   */
  async judge(signerKeyId: string, clientIp: string, tokens: readonly LeakedToken[]): Promise<LeakFeedback[]> {
    const feedback: LeakFeedback[] = [];
    for (const leaked of tokens) {
      const proven = await this.revoker.retireLeaked(leaked.token, clientIp, leakDetail(signerKeyId, leaked));
      feedback.push({ tokenHash: sha256Hex(leaked.token), tokenType: leaked.type, label: proven ? "true_positive" : "false_positive" });
    }
    return feedback;
  }
}
