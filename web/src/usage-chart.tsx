// Checks per hour by verdict, drawn with uPlot (a small canvas time-series
// library): of one key, or of the whole deployment when no key is given.
// Hours without checks are drawn as zero, so gaps read as idle, not as missing.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api, explain } from "./api.js";
import { ErrorText } from "./ui.js";

const HOUR_MS = 3_600_000;

/** Each verdict's colour: VALID green, the denials warm, the keyless ones grey. */
const CODES: ReadonlyArray<{ code: string; color: string }> = [
  { code: "VALID", color: "#2e7d32" },
  { code: "PERMISSION_DENIED", color: "#c62828" },
  { code: "CONSTRAINT_DENIED", color: "#ad1457" },
  { code: "SUBNET_DENIED", color: "#6a1b9a" },
  { code: "EXPIRED", color: "#ef6c00" },
  { code: "RETIRED", color: "#8d6e63" },
  { code: "RATE_LIMITED", color: "#f9a825" },
  { code: "USAGE_EXCEEDED", color: "#0277bd" },
  { code: "NOT_FOUND", color: "#757575" },
  { code: "MALFORMED", color: "#bdbdbd" },
];

interface Series {
  /** Hour starts, in seconds (uPlot's time unit). */
  hours: number[];
  byCode: Map<string, number[]>;
  totals: Map<string, number>;
}

/** Every hour of the range, with each code's counts (zero where none). */
function seriesOf(buckets: ReadonlyArray<{ hour: Date; counts: Record<string, bigint> }>, start: number, end: number): Series {
  const first = start - (start % HOUR_MS);
  const hours: number[] = [];
  for (let h = first; h < end; h += HOUR_MS) hours.push(h / 1000);
  const byCode = new Map<string, number[]>();
  const totals = new Map<string, number>();
  for (const bucket of buckets) {
    const at = Math.round((bucket.hour.getTime() - first) / HOUR_MS);
    if (at < 0 || at >= hours.length) continue;
    for (const [code, count] of Object.entries(bucket.counts)) {
      let values = byCode.get(code);
      if (!values) byCode.set(code, (values = new Array<number>(hours.length).fill(0)));
      values[at] = Number(count);
      totals.set(code, (totals.get(code) ?? 0) + Number(count));
    }
  }
  return { hours, byCode, totals };
}

export function UsageChart(props: { apiKeyId?: string; days?: number; title: string }) {
  const days = props.days ?? 7;
  const box = useRef<HTMLDivElement>(null);
  const [totals, setTotals] = useState<Map<string, number>>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    let plot: uPlot | undefined;
    let gone = false;
    const end = Date.now();
    const start = end - days * 24 * HOUR_MS;
    api.keys
      .adminGetApiKeyUsage({ id: props.apiKeyId ?? "", startTime: timestampFromDate(new Date(start)), endTime: timestampFromDate(new Date(end)) })
      .then(({ buckets }) => {
        if (gone || !box.current) return;
        const series = seriesOf(buckets.map((b) => ({ hour: timestampDate(b.hour!), counts: b.counts })), start, end);
        // Codes seen in the range only, in a fixed order, so colours never change meaning.
        const shown = CODES.filter((c) => series.byCode.has(c.code));
        plot = new uPlot(
          {
            width: Math.max(320, box.current.clientWidth),
            height: 240,
            scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
            axes: [{}, { label: "checks / hour" }],
            series: [{}, ...shown.map((c) => ({ label: c.code, stroke: c.color, width: 1.5, points: { show: false } }))],
          },
          [series.hours, ...shown.map((c) => series.byCode.get(c.code)!)],
          box.current,
        );
        setTotals(series.totals);
        setError(undefined);
      })
      .catch((err: unknown) => !gone && setError(explain(err)));
    return () => {
      gone = true;
      plot?.destroy();
    };
  }, [props.apiKeyId, days]);

  const sum = totals ? [...totals.values()].reduce((a, b) => a + b, 0) : 0;
  return (
    <figure class="usage-chart" aria-label={props.title}>
      <figcaption>
        {props.title}: checks per hour, last {days} days
        {totals && (
          <span class="usage-totals">
            {" — "}
            {sum === 0 ? "no checks" : CODES.filter((c) => totals.has(c.code)).map((c) => `${c.code} ${totals.get(c.code)}`).join(", ")}
          </span>
        )}
      </figcaption>
      <div ref={box} />
      <ErrorText error={error} />
    </figure>
  );
}
