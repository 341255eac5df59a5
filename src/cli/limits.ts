// Flags for what a key or policy is limited to: rate limits, credits, labels.
import { create } from "@bufbuild/protobuf";
import { CreditRefillSchema, CreditsSchema, RateLimitSchema, RefillInterval, type Credits, type RateLimit } from "../../gen/keyward/v1/limits_pb.js";
import { listFlag, stringFlag, type Values } from "./command.js";
import { UsageError } from "./exit-codes.js";
import { duration } from "./values.js";

export const LIMIT_FLAGS = {
  "rate-limit": { type: "string", multiple: true, value: "N/PERIOD", help: "at most N checks per PERIOD, e.g. 100/1m or 10000/1d" },
} as const;

export const CREDIT_FLAGS = {
  credits: { type: "string", value: "N", help: "checks the key may make in all; each VALID check spends one" },
  refill: { type: "string", value: "N/day|N/month", help: "with --credits: restore the credits to N each day or month" },
} as const;

export const LABEL_FLAGS = {
  label: { type: "string", multiple: true, value: "KEY=VALUE", help: "a label to find the key by, e.g. team=billing" },
} as const;

const WHOLE = /^[1-9]\d{0,12}$/;

/** `--rate-limit 100/1m` as rate limits. */
export function rateLimits(values: Values): RateLimit[] {
  return listFlag(values, "rate-limit").map((text) => {
    const [count, period] = text.split("/");
    if (count === undefined || period === undefined || !WHOLE.test(count)) throw new UsageError(`--rate-limit: "${text}" is not N/PERIOD, e.g. 100/1m`);
    return create(RateLimitSchema, { limit: BigInt(count), period: duration("rate-limit", period) });
  });
}

const INTERVALS: Record<string, RefillInterval> = { day: RefillInterval.DAY, month: RefillInterval.MONTH };

/** `--credits N` with an optional `--refill N/day`; undefined when --credits is not given. */
export function credits(values: Values): Credits | undefined {
  const remaining = stringFlag(values, "credits");
  const refill = stringFlag(values, "refill");
  if (remaining === undefined) {
    if (refill !== undefined) throw new UsageError("--refill needs --credits");
    return undefined;
  }
  if (!/^(0|[1-9]\d{0,12})$/.test(remaining)) throw new UsageError(`--credits: "${remaining}" is not a whole number`);
  if (refill === undefined) return create(CreditsSchema, { remaining: BigInt(remaining) });
  const [amount, every] = refill.split("/");
  const interval = every === undefined ? undefined : INTERVALS[every];
  if (amount === undefined || !WHOLE.test(amount) || interval === undefined) throw new UsageError(`--refill: "${refill}" is not N/day or N/month`);
  return create(CreditsSchema, { remaining: BigInt(remaining), refill: create(CreditRefillSchema, { amount: BigInt(amount), interval }) });
}

/** `--label team=billing` as a label map. */
export function labels(values: Values): Record<string, string> {
  const map: Record<string, string> = {};
  for (const text of listFlag(values, "label")) {
    const equals = text.indexOf("=");
    if (equals <= 0) throw new UsageError(`--label: "${text}" is not KEY=VALUE`);
    map[text.slice(0, equals)] = text.slice(equals + 1);
  }
  return map;
}

/** How rate limits read in a table: `100/60s, 10000/86400s`. */
export const rateLimitsText = (limits: readonly RateLimit[]): string =>
  limits.map((l) => `${l.limit}/${l.period ? `${l.period.seconds}s` : "?"}`).join(", ");

/** How credits read: `250 left, refilled to 1000 each day`. */
export function creditsText(c: Credits | undefined): string {
  if (c === undefined) return "";
  const every = c.refill ? Object.entries(INTERVALS).find(([, i]) => i === c.refill!.interval)?.[0] : undefined;
  return `${c.remaining} left${c.refill ? `, refilled to ${c.refill.amount} each ${every ?? "?"}` : ""}`;
}
