import argon2 from "argon2";
import { trace, type Span, type SpanOptions } from "@opentelemetry/api";

/** argon2id cost. OWASP's minimum (19 MiB, 2 passes, 1 lane) by default; tests lower it. */
export interface HashCost {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export const OWASP_COST: HashCost = { memoryKiB: 19_456, iterations: 2, parallelism: 1 };

// A span per hash or verification inside a traced operation (an RPC): a no-op
// tracer unless tracing is on, and argon2 takes milliseconds either way. Its
// attributes are the cost, never input. The domain knows only the API: this is
// src/telemetry.ts's tracer, by name.
const tracer = trace.getTracer("keyward");
const spanOptions = (cost: HashCost) => ({
  attributes: { "keyward.argon2.memory_kib": cost.memoryKiB, "keyward.argon2.iterations": cost.iterations, "keyward.argon2.parallelism": cost.parallelism },
});

/** A child of the active span, or none: work outside any RPC is not traced (as store queries are not). */
const childSpan = (name: string, options?: SpanOptions): Span | undefined =>
  trace.getActiveSpan() === undefined ? undefined : tracer.startSpan(name, options);

/** Hashes and verifies key secrets with argon2id; the plaintext is never stored. */
export class SecretHasher {
  constructor(private readonly cost: HashCost = OWASP_COST) {}

  hash(secret: string): Promise<string> {
    const span = childSpan("argon2 hash", spanOptions(this.cost));
    return argon2
      .hash(secret, {
        type: argon2.argon2id,
        memoryCost: this.cost.memoryKiB,
        timeCost: this.cost.iterations,
        parallelism: this.cost.parallelism,
      })
      .finally(() => span?.end());
  }

  /** Constant-time comparison happens inside argon2's verify. */
  async verify(hash: string, secret: string): Promise<boolean> {
    const span = childSpan("argon2 verify");
    try {
      return await argon2.verify(hash, secret);
    } catch {
      // A corrupt stored hash verifies nothing.
      return false;
    } finally {
      span?.end();
    }
  }
}
