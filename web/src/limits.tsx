// Usage limits in the dashboard (issue #20): how a key's or a policy's rate
// limits and credits read, and the fields that set them.
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { CreditsSchema, RateLimitSchema, RefillInterval, type Credits, type RateLimit } from "../../gen/keyward/v1/limits_pb.js";

const PERIODS: Array<[number, string]> = [
  [1, "second"],
  [60, "minute"],
  [3600, "hour"],
  [86_400, "day"],
];

const periodName = (seconds: number): string => {
  const named = PERIODS.find(([s]) => s === seconds);
  return named ? named[1] : `${seconds} s`;
};

/** `10/second, 1000/hour`; empty when there are none. */
export const describeRateLimits = (limits: readonly RateLimit[]): string =>
  limits.map((l) => `${l.limit}/${periodName(Number(l.period?.seconds ?? 0))}`).join(", ");

/** `42 credits left, refilled to 500 each month`; empty when the key has none. */
export function describeCredits(credits: Credits | undefined): string {
  if (!credits) return "";
  const refill = credits.refill;
  const every = refill?.interval === RefillInterval.DAY ? "day" : "month";
  return `${credits.remaining} credits left${refill ? `, refilled to ${refill.amount} each ${every}` : ""}`;
}

/** What the limit fields hold, as typed. */
export interface LimitFields {
  rateLimit: string;
  ratePeriod: string;
  credits: string;
  refillAmount: string;
  refillInterval: string;
}

export const emptyLimitFields = (): LimitFields => ({ rateLimit: "", ratePeriod: "1", credits: "", refillAmount: "", refillInterval: "month" });

/** The fields from what a key has now (its first rate limit: the form edits one). */
export function limitFieldsOf(rateLimits: readonly RateLimit[], credits: Credits | undefined): LimitFields {
  const first = rateLimits[0];
  return {
    rateLimit: first ? String(first.limit) : "",
    ratePeriod: first ? String(first.period?.seconds ?? 1) : "1",
    credits: credits ? String(credits.remaining) : "",
    refillAmount: credits?.refill ? String(credits.refill.amount) : "",
    refillInterval: credits?.refill?.interval === RefillInterval.DAY ? "day" : "month",
  };
}

/** Empty fields mean none; the server checks the numbers and names the field at fault. */
export function rateLimitsOf(f: LimitFields): RateLimit[] {
  if (f.rateLimit.trim() === "") return [];
  return [create(RateLimitSchema, { limit: BigInt(f.rateLimit.trim()), period: durationFromMs(Number(f.ratePeriod) * 1000) })];
}

export function creditsOf(f: LimitFields): Credits | undefined {
  if (f.credits.trim() === "") return undefined;
  return create(CreditsSchema, {
    remaining: BigInt(f.credits.trim()),
    refill: f.refillAmount.trim() === ""
      ? undefined
      : { amount: BigInt(f.refillAmount.trim()), interval: f.refillInterval === "day" ? RefillInterval.DAY : RefillInterval.MONTH },
  });
}

/** The fields themselves; `credits` false for a policy (credits belong to keys). */
export function LimitInputs(props: { value: LimitFields; onChange: (f: LimitFields) => void; credits: boolean; errorFor: (field: string) => string | undefined }) {
  const f = props.value;
  const set = (patch: Partial<LimitFields>) => props.onChange({ ...f, ...patch });
  const numeric = (s: string) => /^\d*$/.test(s.trim());
  return (
    <fieldset>
      <legend>Usage limits (optional)</legend>
      <label for="limit-rate">Rate limit: at most this many checks (empty = none)</label>
      <input id="limit-rate" inputMode="numeric" value={f.rateLimit} onInput={(e) => numeric(e.currentTarget.value) && set({ rateLimit: e.currentTarget.value })} />
      <label for="limit-period">per</label>
      <select id="limit-period" value={f.ratePeriod} onChange={(e) => set({ ratePeriod: e.currentTarget.value })}>
        {PERIODS.map(([s, name]) => (
          <option value={String(s)}>{name}</option>
        ))}
      </select>
      <span class="field-error" role="alert">{props.errorFor("rate_limits")}</span>
      {props.credits && (
        <>
          <label for="limit-credits">Credits (empty = unlimited)</label>
          <input id="limit-credits" inputMode="numeric" value={f.credits} onInput={(e) => numeric(e.currentTarget.value) && set({ credits: e.currentTarget.value })} />
          <label for="limit-refill">Refill to (empty = never)</label>
          <input id="limit-refill" inputMode="numeric" value={f.refillAmount} onInput={(e) => numeric(e.currentTarget.value) && set({ refillAmount: e.currentTarget.value })} />
          <label for="limit-refill-interval">each</label>
          <select id="limit-refill-interval" value={f.refillInterval} onChange={(e) => set({ refillInterval: e.currentTarget.value })}>
            <option value="day">day (UTC midnight)</option>
            <option value="month">month (the 1st, UTC)</option>
          </select>
          <span class="field-error" role="alert">{props.errorFor("credits")}</span>
        </>
      )}
    </fieldset>
  );
}
