// Who may report leaked keys: a secret scanner signs each report with ECDSA
// P-256 over SHA-256 (GitHub's secret-scanning partner program), naming the
// key it used; Keyward trusts the public keys its operator configured
// (KEYWARD_LEAK_REPORT_PUBLIC_KEYS), in the JSON GitHub publishes them in at
// https://api.github.com/meta/public_keys/secret_scanning.
import { createPublicKey, verify, type KeyObject } from "node:crypto";

/** Key ids are public (GitHub's are 64 hex digits); anything longer is no id of ours. */
const MAX_KEY_ID_LENGTH = 256;
/** A DER ECDSA P-256 signature is at most 72 bytes: 96 base64 characters. */
const MAX_SIGNATURE_LENGTH = 128;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A public key in PEM, refused unless it is an elliptic-curve P-256 key (what GitHub signs with). */
export function p256PublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new Error("is not an ECDSA P-256 public key");
  }
  return key;
}

/**
 * Key id → PEM from GitHub's published form:
 * `{"public_keys": [{"key_identifier": "…", "key": "-----BEGIN PUBLIC KEY-----…", "is_current": true}]}`.
 * Every listed key is trusted, current or not: GitHub lists the keys it may
 * still sign with. Throws, saying what is wrong, on anything else.
 */
export function publicKeysFromGitHubJson(text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('is not JSON; expected {"public_keys": [{"key_identifier": "…", "key": "<PEM>"}]}');
  }
  const list = (parsed as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list) || list.length === 0) throw new Error('has no "public_keys" array, or it is empty');
  const keys: Record<string, string> = {};
  list.forEach((entry: unknown, i) => {
    const { key_identifier: id, key } = (entry ?? {}) as { key_identifier?: unknown; key?: unknown };
    if (typeof id !== "string" || id === "" || id.length > MAX_KEY_ID_LENGTH) throw new Error(`public_keys[${i}].key_identifier must be a non-empty string`);
    if (typeof key !== "string") throw new Error(`public_keys[${i}].key must be a PEM public key`);
    try {
      p256PublicKey(key);
    } catch (error) {
      throw new Error(`public_keys[${i}].key ${error instanceof Error && error.message.startsWith("is ") ? error.message : "is not a PEM public key"}`);
    }
    keys[id] = key;
  });
  return keys;
}

/** The keys a leak report's signature is checked against. */
export class LeakReportKeys {
  private readonly keys = new Map<string, KeyObject>();

  /** `pemById`: key id → PEM public key, as publicKeysFromGitHubJson reads them. */
  constructor(pemById: Readonly<Record<string, string>>) {
    for (const [id, pem] of Object.entries(pemById)) this.keys.set(id, p256PublicKey(pem));
  }

  /**
   * Whether `signature` (base64 of a DER ECDSA signature) made with key `keyId`
   * signs exactly `body`, the raw bytes received: parsing and re-serialising
   * the JSON would change what was signed. A missing header, an unknown key
   * id or a malformed signature is simply false.
   */
  verify(keyId: string | undefined, signature: string | undefined, body: Uint8Array): boolean {
    if (keyId === undefined || signature === undefined) return false;
    const key = keyId.length <= MAX_KEY_ID_LENGTH ? this.keys.get(keyId.trim()) : undefined;
    const encoded = signature.trim();
    if (!key || encoded.length > MAX_SIGNATURE_LENGTH || !BASE64.test(encoded)) return false;
    try {
      return verify("sha256", body, { key, dsaEncoding: "der" }, Buffer.from(encoded, "base64"));
    } catch {
      return false;
    }
  }
}
