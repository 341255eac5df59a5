import { randomBytes } from "node:crypto";

export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * `length` characters drawn uniformly from BASE62 with the system CSPRNG.
 * Bytes ≥ 248 are rejected so that every character is exactly uniform
 * (248 = 4 × 62), giving log2(62) ≈ 5.95 bits per character.
 */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Identifiers of policies and keys: 16 base62 characters (≈95 random bits). */
export const newId = (): string => randomBase62(16);

const ID = /^[0-9A-Za-z]{16}$/;

/** Whether a string has the shape of an id newId() makes; only such strings are ever stored or logged as ids. */
export const isId = (value: string): boolean => ID.test(value);
