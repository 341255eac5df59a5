import argon2 from "argon2";

/** argon2id cost. OWASP's minimum (19 MiB, 2 passes, 1 lane) by default; tests lower it. */
export interface HashCost {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export const OWASP_COST: HashCost = { memoryKiB: 19_456, iterations: 2, parallelism: 1 };

/** Hashes and verifies key secrets with argon2id; the plaintext is never stored. */
export class SecretHasher {
  constructor(private readonly cost: HashCost = OWASP_COST) {}

  hash(secret: string): Promise<string> {
    return argon2.hash(secret, {
      type: argon2.argon2id,
      memoryCost: this.cost.memoryKiB,
      timeCost: this.cost.iterations,
      parallelism: this.cost.parallelism,
    });
  }

  /** Constant-time comparison happens inside argon2's verify. */
  async verify(hash: string, secret: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, secret);
    } catch {
      // A corrupt stored hash verifies nothing.
      return false;
    }
  }
}
