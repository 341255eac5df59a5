// Protecting a @grpc/grpc-js server: wrap the implementation you pass to
// server.addService; each method needs what its proto options declare.
//
//   server.addService(Orders.service, protectService(client, Orders.service, implementation));
//
// A method whose protos declare nothing is refused (PERMISSION_DENIED): fail closed.
import { status, type Metadata, type ServerErrorResponse } from "@grpc/grpc-js";
import type { KeywardClient, Outcome } from "./client.js";
import { declaredService, type ServiceDescriptor } from "./declarations.js";
import { plainAddress, presentedKey } from "./request-parts.js";
import { attachVerifiedKey } from "./verified-key.js";

const CODES = {
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  unavailable: status.UNAVAILABLE,
  limited: status.RESOURCE_EXHAUSTED,
} as const;

interface AnyCall {
  metadata: Metadata;
  getPeer(): string;
  emit(event: "error", err: ServerErrorResponse): boolean;
}
type AnyHandler = (call: AnyCall, callback?: (err: ServerErrorResponse | null, value?: unknown) => void) => void;

export interface GrpcGuardOptions {
  /** The client's address (default: the call's peer). */
  clientIp?: (call: AnyCall) => string | undefined;
}

function errorOf(outcome: Exclude<Outcome, { ok: true }>): ServerErrorResponse {
  return Object.assign(new Error(outcome.reason), { code: CODES[outcome.status], details: outcome.reason, metadata: undefined });
}

/**
 * Returns `implementation` with every method of `descriptor` guarded by
 * Keyward. The verified key is `verifiedKey(call)` in the handler.
 */
export function protectService<T extends object>(client: KeywardClient, descriptor: ServiceDescriptor, implementation: T, options: GrpcGuardOptions = {}): T {
  const clientIp = options.clientIp ?? ((call: AnyCall) => call.getPeer());
  const impl = implementation as Record<string, unknown>;
  const wrapped: Record<string, unknown> = { ...impl };
  for (const method of declaredService(descriptor).methods) {
    const name = method.names.find((n) => typeof impl[n] === "function");
    if (name === undefined) continue;
    const handler = impl[name] as AnyHandler;
    const requirement = method.requirement;
    wrapped[name] = (call: AnyCall, callback?: (err: ServerErrorResponse | null, value?: unknown) => void) => {
      const fail = (err: ServerErrorResponse) => (callback ? callback(err) : call.emit("error", err));
      if (requirement === undefined) {
        return fail(errorOf({ ok: false, status: "permission_denied", reason: "no permission is declared for this method" }));
      }
      const key = presentedKey((n) => {
        const v = call.metadata.get(n)[0];
        return typeof v === "string" ? v : undefined;
      });
      const request = { key, permissions: requirement, method: "POST", path: method.path, clientIp: plainAddress(clientIp(call)) };
      client.check(request).then((outcome) => {
        if (!outcome.ok) return fail(errorOf(outcome));
        attachVerifiedKey(call, outcome.key);
        handler.call(implementation, call, callback);
      }, (err: unknown) => fail(Object.assign(new Error("internal error"), { code: status.INTERNAL, details: String(err), metadata: undefined })));
    };
  }
  return wrapped as T;
}
