// Registration at start: the permissions a service's own descriptors declare,
// sent once with RegisterPermissions; while Keyward is not up yet (or not
// reachable) it retries with exponential backoff. A refusal that retrying
// cannot fix (a bad name, a key that may not register this service) rejects at once.
import { status } from "@grpc/grpc-js";
import type { KeywardClient } from "./client.js";
import { permissionsToRegister, type ServiceDescriptor } from "./declarations.js";
import type { PermissionDefinition } from "./wire.js";

export interface RegisterOptions {
  /** The service's name: the first segment of its permission names. */
  service: string;
  /** The service's descriptors (DescService or proto-loader service definitions). */
  descriptors: readonly ServiceDescriptor[];
  /** Extra permissions not on any method (e.g. ones checked by route tables). */
  extra?: readonly PermissionDefinition[];
  /** First retry delay, ms (default 200), doubled each time up to maxDelayMs (default 10000). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this long, ms (default: never). */
  giveUpAfterMs?: number;
  /** Told about each failed attempt (for a log line). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.ABORTED, status.INTERNAL, status.UNKNOWN]);

export async function registerPermissions(client: KeywardClient, options: RegisterOptions): Promise<PermissionDefinition[]> {
  const found = permissionsToRegister(options.service, options.descriptors);
  const names = new Set(found.map((p) => p.name));
  const permissions = [...found, ...(options.extra ?? []).filter((p) => !names.has(p.name))];
  const started = Date.now();
  let delay = options.initialDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.registerPermissions(options.service, permissions);
      return permissions;
    } catch (err) {
      const code = (err as { code?: number }).code;
      const late = options.giveUpAfterMs !== undefined && Date.now() - started + delay > options.giveUpAfterMs;
      if (code === undefined || !RETRYABLE.has(code) || late) throw err;
      options.onRetry?.(err, attempt, delay);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, options.maxDelayMs ?? 10_000);
    }
  }
}
