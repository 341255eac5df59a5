// Durations as people write them (`30s`, `15m`, `12h`, `365d`), shared by the
// server's configuration and the admin CLI, which must not load the server's
// modules (argon2, the store) just to read a flag.

export const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** `500ms`, `30s`, `15m`, `12h`, `365d` in milliseconds; undefined when `text` is not such a duration. */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}
