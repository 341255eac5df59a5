import type { Grant } from "./permissions.js";

/** The authenticated caller of an admin RPC: a Keyward key and what its policy holds. */
export interface Principal {
  keyId: string;
  policyId: string;
  grants: readonly Grant[];
  /** The caller's network address, for audit. */
  clientIp: string;
}

/** Keyward acting on its own behalf (start-up registration, bootstrap). */
export const SYSTEM: Principal = { keyId: "", policyId: "", grants: [{ kind: "all" }], clientIp: "" };
