// The URLs webhooks may be sent to. Checked when an endpoint is created (the
// caller learns at once) and again, on the addresses DNS gives, at every send
// (transport/webhook-sender.ts): a name may be re-pointed at an internal
// address after it was accepted.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { InvalidArgumentError } from "./errors.js";
import { isPublicAddress } from "./ip-ranges.js";

const SETTING = "KEYWARD_WEBHOOK_ALLOW_PRIVATE";

/** The host part of a URL as an address literal would be written bare (`[::1]` → `::1`). */
export const bareHost = (url: URL): string => (url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname);

/** Parses and checks an endpoint URL's form; no network access. */
export function parseWebhookUrl(field: string, raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidArgumentError(field, "is not an absolute URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new InvalidArgumentError(field, "must be an https URL");
  // Plain http is readable and forgeable on the way; only for test and in-cluster receivers.
  if (url.protocol === "http:" && !allowPrivate) throw new InvalidArgumentError(field, `must be https (http only with ${SETTING}=true)`);
  // Credentials in the URL would be shown by every list of endpoints.
  if (url.username !== "" || url.password !== "") throw new InvalidArgumentError(field, "must not carry credentials (user:password@)");
  if (url.hash !== "") throw new InvalidArgumentError(field, "must not have a #fragment");
  return url;
}

/**
 * Refuses a URL whose host is, or resolves to, a non-public address (unless
 * private ones are allowed). A name that does not resolve is refused too:
 * Keyward could not deliver to it.
 */
export async function assertPublicDestination(field: string, url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = bareHost(url);
  const addresses = isIP(host) ? [host] : await resolve(field, host);
  const refused = addresses.find((a) => !isPublicAddress(a));
  if (refused !== undefined) {
    const what = refused === host ? `${host} is` : `${host} resolves to ${refused},`;
    throw new InvalidArgumentError(field, `${what} a loopback, private, link-local or otherwise non-public address (allowed only with ${SETTING}=true)`);
  }
}

async function resolve(field: string, host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    throw new InvalidArgumentError(field, `the host ${host} does not resolve`);
  }
}
