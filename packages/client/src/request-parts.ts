// Reading what Keyward needs from an incoming request: the key, and the client's address.

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The key from `Authorization: Bearer <key>`, `x-api-key` or `api-key`; "" when
 * none is sent. An Authorization header that is not Bearer presents no key
 * (it is not silently replaced by another header).
 */
export function presentedKey(get: (name: string) => string | undefined): string {
  const authorization = get("authorization");
  if (authorization !== undefined) return BEARER.exec(authorization)?.[1] ?? "";
  return get("x-api-key") ?? get("api-key") ?? "";
}

/** An address as Keyward's CheckKey wants it (no port, no brackets, no IPv4-mapped prefix). */
export function plainAddress(address: string | undefined): string {
  if (!address) return "";
  let a = address.replace(/^ipv[46]:/, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(":"));
  return a.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
}
