// Times as a person reads them: a relative phrase ("in 12 days", "3 hours ago")
// with the absolute time and its zone on hover, and in the <time> element for
// assistive technology and tests.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
];

const phrase = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });

/** "in 12 days", "3 hours ago": the largest unit that is at least one whole, rounded to it. */
export function relativeTime(date: Date, now = Date.now()): string {
  const delta = date.getTime() - now;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(delta) >= ms) return phrase.format(Math.round(delta / ms), unit);
  }
  return phrase.format(0, "second");
}

/** The date and time with the zone it is shown in ("2 Dec 2026, 14:05:00 UTC"). */
export const absoluteTime = (date: Date): string => absolute.format(date);

export const dateOf = (t: Timestamp | undefined): Date | undefined => (t ? timestampDate(t) : undefined);

/** A time, relative, with the absolute one on hover; `none` when there is no time. */
export function When(props: { time: Timestamp | undefined; none?: string }) {
  const date = dateOf(props.time);
  if (!date) return <span class="muted">{props.none ?? "never"}</span>;
  return (
    <time dateTime={date.toISOString()} title={absoluteTime(date)}>
      {relativeTime(date)}
    </time>
  );
}
