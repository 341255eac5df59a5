// What a protected handler learns about the caller's key once Keyward accepted it.
export interface VerifiedKey {
  id: string;
  name: string;
  /** The service the key belongs to; empty for none. */
  service: string;
  policy: { id: string; name: string; permissions: readonly string[] };
  /** When the key expires, in ms since the epoch. */
  expireTimeMs: number;
}

// Handed to handlers through a WeakMap, so no request or call object needs
// an extra (untyped) property, and nothing outlives the request.
const verified = new WeakMap<object, VerifiedKey>();

export const attachVerifiedKey = (carrier: object, key: VerifiedKey): void => void verified.set(carrier, key);

/** The key that a Keyward middleware verified for this request, call or context; undefined if none ran. */
export const verifiedKey = (carrier: object): VerifiedKey | undefined => verified.get(carrier);
