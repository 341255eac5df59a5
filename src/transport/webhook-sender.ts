// The HTTP client of webhooks: one POST, never a redirect followed (node:http
// does not follow them), bounded in time, and — unless private addresses are
// allowed — connected only to a public address: the address checked is the
// address connected to (the check runs inside the DNS lookup the connection
// uses), so a name re-pointed at an internal host between checks gains nothing.
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import type { WebhookSend } from "../domain/webhook-dispatcher.js";
import { isPublicAddress } from "../domain/ip-ranges.js";
import { bareHost } from "../domain/webhook-url.js";

/** A response body is read (to free the connection) but never kept, and never more than this much. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const notPublic = (host: string, address: string) =>
  new Error(`${host === address ? host : `${host} (${address})`} is not a public address; refused (KEYWARD_WEBHOOK_ALLOW_PRIVATE=false)`);

/** DNS lookup that fails when any address found is not public. */
const publicOnlyLookup = ((hostname: string, options: LookupAllOptions | { all?: boolean }, callback: (...args: unknown[]) => void) => {
  dnsLookup(hostname, { ...options, all: true, verbatim: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) return callback(notPublic(hostname, refused.address));
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(new Error(`${hostname} has no address`));
    return callback(null, first.address, first.family);
  });
}) as unknown as LookupFunction;

export function webhookSender(settings: { allowPrivate: boolean; timeoutMs: number }): WebhookSend {
  return (target, headers, body, stop) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL(target);
      const host = bareHost(url);
      if (!settings.allowPrivate) {
        // Address literals are connected to without a lookup: check them here.
        if (isIP(host) && !isPublicAddress(host)) return reject(notPublic(host, host));
        if (url.protocol !== "https:") return reject(new Error("plain http is refused (KEYWARD_WEBHOOK_ALLOW_PRIVATE=false)"));
      }
      if (stop?.aborted) return reject(reasonOf(stop));
      // One controller for both ends of an attempt: its timeout and Keyward stopping. (A plain
      // timer rather than AbortSignal.timeout inside AbortSignal.any, whose timer Node 20 can let
      // the garbage collector take, leaving the attempt to hang.)
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(new Error(`no answer within ${settings.timeoutMs} ms`)), settings.timeoutMs);
      const onStop = () => abort.abort(reasonOf(stop!));
      stop?.addEventListener("abort", onStop, { once: true });
      const done = () => {
        clearTimeout(timer);
        stop?.removeEventListener("abort", onStop);
      };
      const options: RequestOptions = {
        method: "POST",
        headers: { ...headers, "content-length": Buffer.byteLength(body) },
        signal: abort.signal,
        agent: false,
        ...(settings.allowPrivate ? {} : { lookup: publicOnlyLookup }),
      };
      const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, options, (res) => {
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        const answered = () => {
          done();
          resolve(res.statusCode ?? 0);
        };
        res.on("close", answered);
        res.on("error", answered);
      });
      request.on("error", (error: Error) => {
        done();
        reject(abort.signal.aborted ? reasonOf(abort.signal) : error);
      });
      request.end(body);
    });
}

const reasonOf = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : new Error("the attempt was stopped"));
