// The credential format of design §3: `<prefix>_<key id>_<secret><checksum>`.
// The key id is public and indexed; the secret has 33 base62 characters
// (≈196 bits); the checksum is the CRC32 of everything before it, as 6 base62
// characters, so mistyped or forged keys are refused without any I/O and secret
// scanners can recognise leaked ones.
import { timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";
import { BASE62, newId, randomBase62 } from "./random.js";

export const KEY_ID_LENGTH = 16;
export const SECRET_LENGTH = 33;
export const CHECKSUM_LENGTH = 6;
export const KEY_PREFIX_PATTERN = /^[a-z][a-z0-9]{0,15}$/;

export interface ParsedKey {
  id: string;
  secret: string;
}

function base62Fixed(value: number, width: number): string {
  let out = "";
  for (let i = 0; i < width; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

const checksumOf = (body: string): string => base62Fixed(crc32(body), CHECKSUM_LENGTH);

export function formatKey(prefix: string, id: string, secret: string): string {
  const body = `${prefix}_${id}_${secret}`;
  return body + checksumOf(body);
}

/** A fresh secret (for a new key id unless one is given, as in rotation) and the credentials string that carries them. */
export function newCredentials(prefix: string, id: string = newId()): { id: string; secret: string; credentials: string } {
  const secret = randomBase62(SECRET_LENGTH);
  return { id, secret, credentials: formatKey(prefix, id, secret) };
}

const BASE62_RUN = /^[0-9A-Za-z]+$/;

/** The length of every key with this prefix. */
export const keyLength = (prefix: string): number => prefix.length + 2 + KEY_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;

/** The key id and secret, or undefined when the string is not a well-formed key with a valid checksum. */
export function parseKey(prefix: string, presented: string): ParsedKey | undefined {
  if (presented.length !== keyLength(prefix)) return undefined;
  if (!presented.startsWith(`${prefix}_`)) return undefined;
  const idStart = prefix.length + 1;
  const id = presented.slice(idStart, idStart + KEY_ID_LENGTH);
  if (presented[idStart + KEY_ID_LENGTH] !== "_") return undefined;
  const secretStart = idStart + KEY_ID_LENGTH + 1;
  const secret = presented.slice(secretStart, secretStart + SECRET_LENGTH);
  const checksum = presented.slice(secretStart + SECRET_LENGTH);
  if (!BASE62_RUN.test(id) || !BASE62_RUN.test(secret) || !BASE62_RUN.test(checksum)) return undefined;
  const expected = checksumOf(presented.slice(0, secretStart + SECRET_LENGTH));
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(checksum))) return undefined;
  return { id, secret };
}
