// How people see results: aligned tables and `field: value` blocks.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

/**
 * Columns padded to their widest cell (or `minWidths`, so rows printed later
 * line up), two spaces apart; an empty cell shows as `-`.
 */
export function table(headers: string[], rows: string[][], minWidths: number[] = []): string[] {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === "" ? "-" : c)))];
  const widths = headers.map((_, i) => Math.max(minWidths[i] ?? 0, ...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  "));
}

/** `field: value` lines, the fields aligned; empty values are left out. */
export function fields(pairs: [string, string][]): string[] {
  const shown = pairs.filter(([, v]) => v !== "");
  const width = Math.max(...shown.map(([k]) => k.length)) + 1;
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`);
}

/** ISO 8601 to the second, in UTC; empty when unset. */
export function time(t: Timestamp | undefined): string {
  return t ? timestampDate(t).toISOString().replace(/\.\d{3}Z$/, "Z") : "";
}
