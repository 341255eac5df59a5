// Flag values that become protobuf fields: durations, expiry times, states.
import { durationFromMs, timestampFromDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import { durationMs } from "../duration.js";
import { stringFlag, type Values } from "./command.js";
import { UsageError } from "./exit-codes.js";

export function duration(flag: string, text: string): Duration {
  const ms = durationMs(text);
  if (ms === undefined) throw new UsageError(`--${flag}: "${text}" is not a duration such as 30s, 15m, 12h or 90d`);
  return durationFromMs(ms);
}

/** `--ttl 90d` (from now) or `--expires 2027-01-01T00:00:00Z`; undefined when neither is given. */
export function expiry(values: Values, now = Date.now()): Timestamp | undefined {
  const ttl = stringFlag(values, "ttl");
  const expires = stringFlag(values, "expires");
  if (ttl !== undefined && expires !== undefined) throw new UsageError("give --ttl or --expires, not both");
  if (ttl !== undefined) {
    const ms = durationMs(ttl);
    if (ms === undefined || ms === 0) throw new UsageError(`--ttl: "${ttl}" is not a duration such as 12h, 30d or 365d`);
    return timestampFromDate(new Date(now + ms));
  }
  if (expires !== undefined) {
    // Only full ISO 8601 dates: Date.parse accepts looser forms whose time zone is a guess.
    const at = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(expires) ? Date.parse(expires) : NaN;
    if (Number.isNaN(at)) throw new UsageError(`--expires: "${expires}" is not a date such as 2027-01-01 or 2027-01-01T12:00:00Z`);
    return timestampFromDate(new Date(at));
  }
  return undefined;
}

/** A limit on how many items to list: a whole number from 1. */
export function count(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,6}$/.test(text)) throw new UsageError(`--${flag}: "${text}" is not a whole number from 1`);
  return Number(text);
}
